"""`@scheduled(...)`: a function becomes a periodic job with one run per tick across every worker.

Procrastinate defers each tick once however many workers run (the periodic defer is unique per task
and timestamp), `lock` keeps two runs of one job from overlapping, and `queueing_lock` keeps a slow job
from piling up ticks behind it. A failed run is retried with backoff; every job is idempotent, so a
retry or a late tick can only redo work that is still to be done.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections, connection
from django.db.models import F
from django.utils import timezone
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from backend.audit.jobs import run_audited

from .models import JobStatus

logger = logging.getLogger("greenloop.jobs")

QUEUE = "scheduled"


@dataclass(frozen=True)
class Job:
    name: str
    cron: str
    # How old the last success may be before operators should worry: the schedule plus slack.
    expected_every_s: int
    run: Callable[[], object]


JOBS: dict[str, Job] = {}


def _fresh_connection() -> None:
    # Worker threads keep their connection between jobs; a broken or expired one is replaced here,
    # as Django does between requests. Inside a caller's transaction there is nothing to replace.
    if not connection.in_atomic_block:
        close_old_connections()


def run_recorded(job: Job) -> object:
    """Run `job` once, recording its start, success or failure and duration in JobStatus."""
    _fresh_connection()
    started = time.monotonic()
    JobStatus.objects.get_or_create(name=job.name)
    JobStatus.objects.filter(name=job.name).update(last_started_at=timezone.now())
    try:
        result = run_audited(job.name, job.run)
    except Exception as exc:
        JobStatus.objects.filter(name=job.name).update(
            failures=F("failures") + 1, last_failure_at=timezone.now(), last_error=repr(exc)[:500]
        )
        logger.exception("job %s failed", job.name, extra={"job": job.name})
        raise
    else:
        duration_ms = round((time.monotonic() - started) * 1000)
        JobStatus.objects.filter(name=job.name).update(
            runs=F("runs") + 1, last_success_at=timezone.now(), last_duration_ms=duration_ms
        )
        logger.info(
            "job %s done in %d ms: %s",
            job.name,
            duration_ms,
            result,
            extra={"job": job.name, "duration_ms": duration_ms},
        )
        return result
    finally:
        _fresh_connection()


def scheduled(*, name: str, cron: str, expected_every_s: int, max_attempts: int = 3):
    """Register the decorated function (no arguments) as the periodic job `name` on `cron`.

    `cron` has five fields, or six with seconds last (`* * * * * */5`: every five seconds).
    """

    def register(func: Callable[[], object]):
        job = Job(name=name, cron=cron, expected_every_s=expected_every_s, run=func)
        if name in JOBS:
            raise ValueError(f"job {name!r} is declared twice")
        JOBS[name] = job

        def periodic_run(timestamp: int) -> None:
            # Looked up at run time, not captured, so the registry stays the one source of truth.
            run_recorded(JOBS[name])

        periodic_run.__name__ = periodic_run.__qualname__ = name
        task = app.task(
            name=name,
            queue=QUEUE,
            lock=name,
            queueing_lock=name,
            retry=RetryStrategy(max_attempts=max_attempts, exponential_wait=2),
        )(periodic_run)
        app.periodic(cron=cron, periodic_id=name)(task)
        return func

    return register
