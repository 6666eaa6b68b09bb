from django.conf import settings
from django.core.management.base import BaseCommand

from stats import notify, selectors


class Command(BaseCommand):
    help = (
        "Alert (manifest.overdue on /ws/stats/) every hazardous waste manifest still open "
        "MANIFEST_OVERDUE_DAYS after its hand-over. Run daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.MANIFEST_OVERDUE_DAYS)

    def handle(self, *args, days, **options):
        overdue = list(selectors.overdue_manifests(days=days))
        notify.manifests_overdue(overdue)
        for manifest in overdue:
            self.stdout.write(
                f"{manifest.number}: open since {manifest.handed_over_at:%Y-%m-%d} ({manifest.handler})"
            )
        self.stdout.write(f"{len(overdue)} manifests open for more than {days} days")
