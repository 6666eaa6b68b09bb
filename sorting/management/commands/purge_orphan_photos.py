from datetime import timedelta

from django.core.management.base import BaseCommand

from sorting.services import purge_orphan_photos


class Command(BaseCommand):
    help = "Delete stored drop photos that no drop names (left by a crash between writing and committing)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-minutes", type=int, default=60)

    def handle(self, *args, older_than_minutes=60, **options):
        deleted = purge_orphan_photos(older_than=timedelta(minutes=older_than_minutes))
        self.stdout.write(f"{deleted} orphan photos deleted")
