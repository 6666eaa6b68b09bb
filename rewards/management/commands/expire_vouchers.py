from django.core.management.base import BaseCommand

from rewards.services import expire_vouchers


class Command(BaseCommand):
    help = "Expire unfulfilled vouchers whose reward window has closed, refunding and restocking (idempotent; run from cron)."

    def handle(self, *args, **options):
        self.stdout.write(f"expired {expire_vouchers()} vouchers")
