from django.core.management.base import BaseCommand

from backend.jobs.status import job_health


class Command(BaseCommand):
    help = "Each scheduled job's schedule, runs, failures, last success and lag; exits 1 if one is late."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="exit 1 when any job is late")

    def handle(self, *args, check=False, **options):
        health = job_health()
        self.stdout.write(f"{'job':<20} {'schedule':<16} {'runs':>7} {'failures':>8}  last success (lag)")
        for job in health:
            last = (
                f"{job.last_success_at:%Y-%m-%d %H:%M:%S} ({job.lag_s:.0f} s)"
                if job.last_success_at
                else "never"
            )
            flag = "  LATE" if job.late else ""
            self.stdout.write(f"{job.name:<20} {job.cron:<16} {job.runs:>7} {job.failures:>8}  {last}{flag}")
        if check and any(job.late for job in health):
            raise SystemExit(1)
