"""The ASGI lifespan: starts the job worker on the server's own event loop when asked to.

`greenloop serve` asks (GREENLOOP_IN_PROCESS_WORKER=1) on the embedded default; production servers
leave the variable unset and run `greenloop worker` beside them.
"""

import asyncio
import contextlib
import logging
import os

logger = logging.getLogger("greenloop.jobs")


def in_process_worker_wanted() -> bool:
    return os.environ.get("GREENLOOP_IN_PROCESS_WORKER") == "1"


def _report_exit(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the in-process job worker stopped", exc_info=task.exception())


def _forget_this_process_in_metrics() -> None:
    # Live gauges (open sockets, pool connections) of a stopped worker must not count any more.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


async def lifespan(scope, receive, send) -> None:
    worker = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if in_process_worker_wanted():
                from .worker import run_in_server

                worker = asyncio.create_task(run_in_server(), name="greenloop-jobs")
                worker.add_done_callback(_report_exit)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await worker
            from backend import async_database

            await async_database.close()
            _forget_this_process_in_metrics()
            await send({"type": "lifespan.shutdown.complete"})
            return
