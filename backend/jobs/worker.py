"""Running the job worker: in its own process (`greenloop worker`) or inside the web server's loop.

Inside the server the jobs' threads hand their after-commit publishing back to the server's own event
loop (asgiref does that for threads it started), so the in-memory channel layer carries their events
to the sockets that loop serves: the embedded default is live without Redis.
"""

import logging

from asgiref.sync import sync_to_async
from procrastinate.contrib.django import app

from .schedule import QUEUE
from .status import register_jobs

logger = logging.getLogger("greenloop.jobs")

OPTIONS = {
    "queues": [QUEUE],
    # A five-second schedule would leave ~17,000 finished rows a day; failures stay for inspection.
    "delete_jobs": "successful",
}


def run_forever(concurrency: int = 1) -> None:
    register_jobs()
    with app.replace_connector(app.connector.get_worker_connector()):
        app.run_worker(concurrency=concurrency, name="worker", **OPTIONS)


async def run_in_server() -> None:
    await sync_to_async(register_jobs)()
    with app.replace_connector(app.connector.get_worker_connector()):
        async with app.open_async():
            logger.info("job worker started inside the server process")
            await app.run_worker_async(name="in-server", install_signal_handlers=False, **OPTIONS)
