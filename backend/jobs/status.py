"""How late each scheduled job is: read by `greenloop manage job_status` and by /metrics."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from .models import JobStatus
from .schedule import JOBS


@dataclass(frozen=True)
class JobHealth:
    name: str
    cron: str
    runs: int
    failures: int
    last_success_at: datetime | None
    lag_s: float | None  # seconds since the last success (or since registration); None if unknown
    late: bool


def register_jobs() -> None:
    """Called when a worker starts: from now on each job is expected on its schedule."""
    for name in JOBS:
        JobStatus.objects.get_or_create(name=name)


def job_health(now: datetime | None = None) -> list[JobHealth]:
    now = now or timezone.now()
    rows = {row.name: row for row in JobStatus.objects.filter(name__in=list(JOBS))}
    health = []
    for name, job in sorted(JOBS.items()):
        row = rows.get(name)
        last = row.last_success_at if row else None
        since = last or (row.registered_at if row else None)
        lag = (now - since).total_seconds() if since else None
        health.append(
            JobHealth(
                name=name,
                cron=job.cron,
                runs=row.runs if row else 0,
                failures=row.failures if row else 0,
                last_success_at=last,
                lag_s=lag,
                late=lag is None or lag > job.expected_every_s,
            )
        )
    return health
