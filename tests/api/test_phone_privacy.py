"""No GET endpoint shows anyone's full phone number, except /me to its owner; and none fails with a 500."""

import json

import pytest
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db

PHONE = "+8613955550123"


@pytest.fixture
def get_paths():
    schema = json.loads(Client().get("/api/schema/?format=json").content)
    return sorted(path for path, ops in schema["paths"].items() if "get" in ops)


def test_get_endpoints_show_no_full_phone_number(get_paths, as_user, admin_user, city_officer, weidu):
    resident = factories.ResidentFactory(phone=PHONE, household__community__district=weidu)
    officer = factories.DistrictOfficerFactory(district=weidu, phone="+8613955550456")
    assert len(get_paths) >= 5
    assert "/api/v1/districts/{district_id}/communities" in get_paths

    for viewer in (resident, officer, city_officer, admin_user):
        client = as_user(viewer)
        for template in get_paths:
            path = template.replace("{district_id}", str(weidu.id))
            if "{" in path:
                continue
            response = client.get(path)
            assert response.status_code < 500, (path, viewer.role)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode("utf-8", "replace")
            own = path == "/api/v1/me"
            for user in (resident, officer):
                digits = str(user.phone)[3:]
                if own and viewer == user:
                    continue
                assert digits not in text, (path, viewer.role)
