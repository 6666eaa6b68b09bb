from django.core.management.base import BaseCommand

from accounts.services import purge_ws_tickets


class Command(BaseCommand):
    help = "Delete WebSocket tickets that expired over an hour ago (run daily from cron; idempotent)."

    def handle(self, *args, **options):
        self.stdout.write(f"purged {purge_ws_tickets()} tickets")
