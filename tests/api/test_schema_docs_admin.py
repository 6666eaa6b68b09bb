import json
import re

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command

from accounts.models import Role, User
from tests import factories

pytestmark = pytest.mark.django_db

# The Accounts and Staff administration paths of API.md, with the methods it names.
ACCOUNTS_PATHS = {
    "/api/v1/auth/register": {"post"},
    "/api/v1/auth/token": {"post"},
    "/api/v1/auth/token/refresh": {"post"},
    "/api/v1/me": {"get"},
    "/api/v1/me/household": {"post"},
    "/api/v1/me/code": {"get"},
    "/api/v1/me/code.png": {"get"},
    "/api/v1/districts": {"get"},
    "/api/v1/districts/{district_id}/communities": {"get"},
    "/api/v1/communities": {"post"},
    "/api/v1/staff": {"post"},
    "/api/v1/ws-ticket": {"post"},
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_is_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "GreenLoop API"


def test_the_schema_lists_every_accounts_path_of_the_contract(schema):
    for path, methods in ACCOUNTS_PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), path


def test_the_schema_describes_request_and_response_bodies(schema):
    register = schema["paths"]["/api/v1/auth/register"]["post"]
    assert "201" in register["responses"]
    assert "requestBody" in register
    staff_ref = schema["paths"]["/api/v1/staff"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    staff_in = schema["components"]["schemas"][staff_ref["$ref"].rsplit("/", 1)[1]]
    assert {"phone", "password", "display_name", "role", "district_id", "community_ids"} <= set(
        staff_in["properties"]
    )
    assert "image/png" in schema["paths"]["/api/v1/me/code.png"]["get"]["responses"]["200"]["content"]


def test_the_schema_declares_bearer_auth(schema):
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_the_schema_is_also_served_as_yaml(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3")


def test_the_docs_page_uses_only_local_assets(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "cdn" not in page.lower()
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)["']""", page)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        fetched = client.get(asset)
        assert fetched.status_code == 200, asset
        assert _body(fetched)


def _body(response) -> bytes:
    # ServeStatic streams files asynchronously (it serves ASGI natively).
    if not response.streaming:
        return response.content
    if response.is_async:

        async def collect():
            return b"".join([chunk async for chunk in response.streaming_content])

        return async_to_sync(collect)()
    return b"".join(response.streaming_content)


def test_the_admin_login_page_loads(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content


def test_the_admin_is_closed_to_non_staff(client, resident):
    client.force_login(resident)

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/accounts/household/",
        "/admin/geo/district/",
        "/admin/geo/community/",
        "/admin/geo/city/",
    ],
)
def test_the_admin_has_pages_for_the_staff_models(client, admin_user, resident, path):
    client.force_login(admin_user)

    response = client.get(path)

    assert response.status_code == 200


def test_the_admin_edit_page_of_a_user_loads_and_search_works(client, admin_user, resident):
    client.force_login(admin_user)

    assert client.get(f"/admin/accounts/user/{resident.id}/change/").status_code == 200
    found = client.get("/admin/accounts/user/", {"q": resident.display_name})
    assert found.status_code == 200
    assert resident.display_name.encode() in found.content
    assert client.get(f"/admin/accounts/household/{resident.household_id}/change/").status_code == 200
    assert client.get("/admin/accounts/household/", {"q": resident.household.address}).status_code == 200


def test_the_admin_creates_a_user_with_a_normalised_phone(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        "/admin/accounts/user/add/",
        {
            "phone": "139 0000 1234",
            "display_name": "后台新建",
            "role": "merchant",
            "password1": factories.PASSWORD,
            "password2": factories.PASSWORD,
        },
    )

    assert response.status_code == 302, response.content[:2000]
    user = User.objects.get(display_name="后台新建")
    assert str(user.phone) == "+8613900001234"
    assert user.role == Role.MERCHANT
    assert user.check_password(factories.PASSWORD)


# ---- the first administrator ---------------------------------------------------------------------


def test_createsuperuser_noinput_reads_phone_and_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PHONE", "139 8888 0000")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-passphrase-7")

    call_command("createsuperuser", "--noinput", verbosity=0)

    admin = User.objects.get(phone="+8613988880000")
    assert admin.is_superuser and admin.is_staff and admin.is_active
    assert admin.role == Role.ADMIN
    assert admin.display_name
    assert admin.check_password("a-long-admin-passphrase-7")
    assert admin.password.startswith("argon2")


def test_the_superuser_logs_in_over_the_api(monkeypatch, api, throttle_rates):
    monkeypatch.setenv("DJANGO_SUPERUSER_PHONE", "+8613988880001")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-passphrase-7")
    call_command("createsuperuser", "--noinput", verbosity=0)

    response = api.post(
        "/api/v1/auth/token", {"phone": "13988880001", "password": "a-long-admin-passphrase-7"}, format="json"
    )

    assert response.status_code == 200
    assert "access" in response.json()


@pytest.mark.parametrize("phone", ["abc", "12345"])
def test_createsuperuser_refuses_an_invalid_phone(monkeypatch, phone):
    from django.core.management.base import CommandError

    monkeypatch.setenv("DJANGO_SUPERUSER_PHONE", phone)
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-passphrase-7")

    with pytest.raises(CommandError):
        call_command("createsuperuser", "--noinput", verbosity=0)
    assert not User.objects.exists()


def test_createsuperuser_refuses_a_taken_phone_in_another_format(monkeypatch, resident):
    from django.core.management.base import CommandError

    monkeypatch.setenv("DJANGO_SUPERUSER_PHONE", str(resident.phone)[3:])
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-passphrase-7")

    with pytest.raises(CommandError):
        call_command("createsuperuser", "--noinput", verbosity=0)
    assert User.objects.count() == 1
    resident.refresh_from_db()
    assert not resident.is_superuser


def test_the_admin_refuses_an_inspector_without_a_district_as_a_form_error(client, admin_user):
    client.force_login(admin_user)
    form = {
        "phone": "139 0000 1235",
        "display_name": "后台督导",
        "role": "inspector",
        "password1": factories.PASSWORD,
        "password2": factories.PASSWORD,
    }

    refused = client.post("/admin/accounts/user/add/", form)

    assert refused.status_code == 200
    assert b"errorlist" in refused.content
    assert not User.objects.filter(display_name="后台督导").exists()


def test_the_admin_adds_an_inspector_with_a_district(client, admin_user, weidu):
    client.force_login(admin_user)
    form = {
        "phone": "139 0000 1236",
        "display_name": "后台督导",
        "role": "inspector",
        "district": weidu.id,
        "password1": factories.PASSWORD,
        "password2": factories.PASSWORD,
    }

    response = client.post("/admin/accounts/user/add/", form)

    assert response.status_code == 302
    assert User.objects.get(display_name="后台督导").district_id == weidu.id


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    # Warnings mean a view the generator could not understand: its page in /api/docs/ would be wrong.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


def test_every_operation_declares_the_error_statuses_in_the_envelope(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    envelope = schema["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["required"] == ["error"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            for status in ("400", "401", "403", "404", "409", "413", "429"):
                declared = operation["responses"][status]["content"]["application/json"]["schema"]
                assert declared == {"$ref": "#/components/schemas/ErrorEnvelope"}, (method, path, status)
