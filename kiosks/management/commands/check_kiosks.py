from django.core.management.base import BaseCommand

from kiosks.services import check_silent_kiosks


class Command(BaseCommand):
    help = "Raise a `silent` alert for kiosks not heard from for 10 minutes (idempotent; run every minute)."

    def handle(self, *args, **options):
        self.stdout.write(f"{check_silent_kiosks()} new silent-kiosk alerts")
