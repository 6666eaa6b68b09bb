from django.core.management.base import BaseCommand

from sorting.services import auto_accept_pending


class Command(BaseCommand):
    help = "Accept pending drops older than their district's auto-accept delay (idempotent; run every few minutes)."

    def handle(self, *args, **options):
        self.stdout.write(f"auto-accepted {auto_accept_pending()} drops")
