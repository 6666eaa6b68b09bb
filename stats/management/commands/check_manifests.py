from django.conf import settings
from django.core.management.base import BaseCommand

from kiosks import services as kiosk_services
from stats import notify, selectors


class Command(BaseCommand):
    help = (
        "Alert every hazardous batch without a closed manifest MANIFEST_OVERDUE_DAYS after it left: "
        "manifest.overdue on /ws/stats/ for open manifests, and a `custody` kiosk alert on each kiosk "
        "whose pickups the batch came from (cleared once none is left). Run daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.MANIFEST_OVERDUE_DAYS)

    def handle(self, *args, days, **options):
        overdue = selectors.overdue_custody(days=days)
        notify.manifests_overdue(overdue.manifests)
        kiosks = kiosk_services.raise_custody_alerts(overdue.details_by_kiosk())
        for manifest in overdue.manifests:
            self.stdout.write(
                f"{manifest.number}: open since {manifest.handed_over_at:%Y-%m-%d} ({manifest.handler})"
            )
        for pickup in overdue.pickups:
            self.stdout.write(f"pickup {pickup.pk} of kiosk {pickup.kiosk_id}: hazardous, on no manifest")
        self.stdout.write(
            f"{len(overdue.manifests)} manifests open for more than {days} days, "
            f"{len(overdue.pickups)} hazardous pickups on no manifest, {kiosks} kiosks alerted"
        )
