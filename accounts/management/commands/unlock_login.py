from django.core.management.base import BaseCommand, CommandError

from accounts import lockout


class Command(BaseCommand):
    help = "Lift a sign-in lockout early: of an account (--phone), a client address (--address), or both."

    def add_arguments(self, parser):
        parser.add_argument("--phone")
        parser.add_argument("--address")

    def handle(self, *args, phone=None, address=None, **options):
        if not phone and not address:
            raise CommandError("Give --phone, --address or both.")
        lockout.unlock(phone=phone, address=address)
        self.stdout.write(f"unlocked: {', '.join(x for x in (phone, address) if x)}")
