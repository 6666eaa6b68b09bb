from django.core.management.base import BaseCommand, CommandError

from stats.rollups.verification import verify


class Command(BaseCommand):
    help = "Prove every statistics rollup equals a recount of the raw events; exit 1 on any difference."

    def handle(self, *args, **options):
        problems = verify()
        for problem in problems:
            self.stderr.write(
                f"{problem.table}: {problem.missing} rows missing, {problem.extra} rows extra; "
                f"e.g. {problem.sample}"
            )
        if problems:
            raise CommandError("rollups differ from a recount", returncode=1)
        self.stdout.write("rollups equal the recount")
