from django.core.management.base import BaseCommand

from backend.audit.jobs import run_audited
from rewards.services import expire_vouchers


class Command(BaseCommand):
    help = "Expire unfulfilled vouchers whose reward window has closed, refunding and restocking (idempotent; run from cron)."

    def handle(self, *args, **options):
        expired = run_audited("expire_vouchers", expire_vouchers, as_command=True)
        self.stdout.write(f"expired {expired} vouchers")
