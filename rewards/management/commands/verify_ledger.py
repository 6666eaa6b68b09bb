from django.core.management.base import BaseCommand, CommandError

from rewards.verification import CHECKS, find_violations


class Command(BaseCommand):
    help = "Check every ledger and stock invariant; exits non-zero on any violation."

    def handle(self, *args, **options):
        violations = find_violations()
        for violation in violations:
            self.stderr.write(violation)
        if violations:
            raise CommandError(f"{len(violations)} ledger invariant violation(s)")
        self.stdout.write(f"ledger OK: {len(CHECKS)} invariants hold")
