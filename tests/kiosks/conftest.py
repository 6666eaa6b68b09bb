import pytest

from accounts.services import issue_resident_code

from .helpers import make_kiosk


@pytest.fixture
def kiosk(community):
    return make_kiosk(community)


@pytest.fixture
def code(resident):
    """A fresh resident code of `resident`, as their app shows it."""
    return issue_resident_code(resident)[0]
