from django.core.management.base import BaseCommand

from kiosks.services import purge_nonces


class Command(BaseCommand):
    help = "Forget request nonces older than twice the 300 s signature window (idempotent; run every few minutes)."

    def handle(self, *args, **options):
        self.stdout.write(f"purged {purge_nonces()} nonces")
