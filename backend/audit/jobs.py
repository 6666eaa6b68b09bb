"""Scheduled jobs that change data are recorded as a system job, as management commands are."""

from collections.abc import Callable

from django.conf import settings

from . import capture, services


def _rows_reported(result: object) -> int:
    # Jobs return how many rows they changed. Most change them by a conditional UPDATE (an expiry, an
    # auto-acceptance) that sends no signal, so capture cannot see them: the count speaks for them.
    if isinstance(result, int) and not isinstance(result, bool):
        return max(result, 0)
    return 0


def run_audited(name: str, run: Callable[[], object], *, as_command: bool = False) -> object:
    """Run the job `name`; if it changed anything, leave one row naming it, even when it then failed
    (its runs commit item by item, so what came before the failure stays changed).

    A management command that runs a job's work by hand (`as_command`) is recorded the same way, named
    as the command, so its uncounted UPDATEs are on the trail too."""
    if name in settings.AUDIT_UNRECORDED_JOBS:
        return run()
    result = None
    try:
        with capture.capturing() as captured:
            result = run()
    finally:
        rows = _rows_reported(result)
        if captured.changes or rows:
            services.write_entry(
                services.system_actor(f"command:{name}" if as_command else f"job:{name}"),
                captured,
                route=f"manage {name}" if as_command else f"job {name}",
                summary={"rows_changed": [None, rows]} if rows else None,
            )
    return result
