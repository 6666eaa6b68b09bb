"""Statistics jobs. The refresh runs through its management command, the one entry point the rollups
keep however their internals are arranged."""

import io

from django.core.management import call_command

from backend.jobs.schedule import scheduled


# Every five seconds: the dashboard's promise is "live", and an incremental round with nothing new
# costs a few index lookups.
@scheduled(name="refresh_rollups", cron="* * * * * */5", expected_every_s=60)
def refresh_rollups() -> str:
    out = io.StringIO()
    call_command("refresh_rollups", stdout=out)
    return out.getvalue().strip()
