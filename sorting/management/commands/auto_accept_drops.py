from django.core.management.base import BaseCommand

from backend.audit.jobs import run_audited
from sorting.services import auto_accept_pending


class Command(BaseCommand):
    help = "Accept pending drops older than their district's auto-accept delay (idempotent; run every few minutes)."

    def handle(self, *args, **options):
        accepted = run_audited("auto_accept_drops", auto_accept_pending, as_command=True)
        self.stdout.write(f"auto-accepted {accepted} drops")
