from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.data import ADMIN_PHONE, DEMO_PASSWORD, RESIDENTS, STAFF, load_demo


class Command(BaseCommand):
    help = "Load the demo data set (communities, residents, staff, bins, kiosks, rewards). Idempotent; DEBUG only."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="load even with DEBUG off (never in production)"
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Demo accounts share a published password: refused with DEBUG off (use --force)."
            )
        load_demo()
        self.stdout.write(f"Demo accounts (password {DEMO_PASSWORD}):")
        self.stdout.write(f"  admin            {ADMIN_PHONE}")
        for phone, name, role, _slug, _communities in STAFF:
            self.stdout.write(f"  {role:<16} {phone}  {name}")
        for phone, name, community, _address in RESIDENTS[:2]:
            self.stdout.write(f"  resident         {phone}  {name} ({community})")
