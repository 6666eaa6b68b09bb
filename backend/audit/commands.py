"""Management commands run by staff (`greenloop manage ...`) are recorded as a system job."""

from contextlib import contextmanager

from django.conf import settings

from . import capture, services


@contextmanager
def audited_command(argv: list[str]):
    name = next((arg for arg in argv if not arg.startswith("-")), "")
    if not name or name in settings.AUDIT_UNRECORDED_COMMANDS:
        yield
        return
    with capture.capturing() as captured:
        yield
    if captured.changes:
        services.write_entry(services.system_actor(f"command:{name}"), captured, route=f"manage {name}")
