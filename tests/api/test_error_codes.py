import importlib
import re

from django.apps import apps

from api.errors import STATUS_BY_CODE
from backend.errors import DomainError

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def _all_domain_errors():
    for config in apps.get_app_configs():
        try:
            importlib.import_module(f"{config.name}.errors")
        except ModuleNotFoundError:
            pass
    # The URL configuration imports every view, hence every service and the errors it raises.
    importlib.import_module("backend.urls")
    importlib.import_module("backend.codes.signing")
    pending, found = [DomainError], []
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_domain_error_has_a_snake_case_code_with_a_stated_status():
    errors = _all_domain_errors()

    assert len(errors) > 10
    unmapped = sorted({e.code for e in errors if e is not DomainError and e.code not in STATUS_BY_CODE})
    assert unmapped == []
    assert all(SNAKE_CASE.match(e.code) for e in errors)


def test_every_stated_status_is_a_client_error():
    assert all(400 <= status < 500 for status in STATUS_BY_CODE.values())
    assert all(SNAKE_CASE.match(code) for code in STATUS_BY_CODE)
