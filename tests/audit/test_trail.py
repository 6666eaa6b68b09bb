"""The audit trail: append-only in the database, one row per staff write, read within scope."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from backend.audit.models import AuditEntry
from rewards.models import Material, PointRules
from rewards.selectors import rule_versions
from tests import factories


def _entry(**values) -> AuditEntry:
    defaults = {"actor_kind": "user", "object_type": "rewards.material", "object_id": "1", "action": "update"}
    return AuditEntry.objects.create(**{**defaults, **values})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditentry SET action = 'delete' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_remove_an_audit_row(statement):
    entry = _entry()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])
    entry.refresh_from_db()
    assert entry.action == "update"


@pytest.mark.django_db
def test_a_staff_write_records_actor_changed_fields_address_and_request_id(city_officer, as_user):
    material = Material.objects.get(code="paper")
    old_rate = material.points_per_kg
    rule_versions(city_officer.city_id)
    response = as_user(city_officer).patch(
        "/api/v1/materials/paper",
        {"points_per_kg": old_rate + 7},
        format="json",
        HTTP_X_REQUEST_ID="req-audit-1",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 200, response.content
    [entry] = AuditEntry.objects.all()
    assert (entry.actor_kind, entry.actor_id, entry.actor_role) == ("user", city_officer.pk, "city_officer")
    # A price is the city's, so the change is a new version of its rules, not an edit of the material.
    version = PointRules.objects.filter(city_id=city_officer.city_id).latest("effective_from")
    assert (entry.object_type, entry.object_id, entry.action) == (
        "rewards.pointrules",
        str(version.pk),
        "create",
    )
    assert entry.changes["material_prices"][1]["paper"] == old_rate + 7
    assert Material.objects.get(code="paper").points_per_kg == old_rate
    assert entry.client_address == "203.0.113.9"
    assert entry.request_id == "req-audit-1"


@pytest.mark.django_db
def test_secrets_and_phone_numbers_never_reach_the_trail(city_officer, weidu, as_user):
    phone = factories.next_phone()
    response = as_user(city_officer).post(
        "/api/v1/staff",
        {
            "phone": phone,
            "password": "a-long-enough-passphrase-9",
            "display_name": "新督导",
            "role": "district_officer",
            "district_id": weidu.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    [entry] = AuditEntry.objects.all()
    assert entry.object_type == "accounts.user" and entry.action == "create"
    assert entry.changes["password"] == [None, "[redacted]"]
    stored_phone = entry.changes["phone"][1]
    assert stored_phone.endswith(phone[-4:]) and phone not in str(entry.changes)


@pytest.mark.django_db
def test_a_residents_write_and_a_refused_write_leave_no_row(resident, district_officer, as_user):
    as_user(resident).patch("/api/v1/me", {"leaderboard": True}, format="json")
    refused = as_user(district_officer).patch("/api/v1/materials/paper", {"points_per_kg": 1}, format="json")
    assert refused.status_code == 403
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_district_officers_read_their_district_only(district_officer, city_officer, weidu, jian_an, as_user):
    own = _entry(district_id=weidu.pk, city_id=weidu.city_id)
    other = _entry(district_id=jian_an.pk, city_id=jian_an.city_id)
    city_wide = _entry(city_id=weidu.city_id)
    seen = {row["id"] for row in as_user(district_officer).get("/api/v1/audit").json()["results"]}
    assert seen == {own.pk}
    seen = {row["id"] for row in as_user(city_officer).get("/api/v1/audit").json()["results"]}
    assert seen == {own.pk, other.pk, city_wide.pk}


@pytest.mark.django_db
def test_residents_and_inspectors_may_not_read_the_trail(resident, as_user):
    inspector = factories.InspectorFactory()
    for user in (resident, inspector):
        response = as_user(user).get("/api/v1/audit")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.django_db
def test_filters_narrow_the_trail(city_officer, weidu, as_user):
    city = {"city_id": weidu.city_id}
    wanted = _entry(
        **city, actor_id=city_officer.pk, object_type="rewards.shop", object_id="9", action="create"
    )
    _entry(**city, actor_id=city_officer.pk, object_type="rewards.shop", object_id="10", action="update")
    _entry(
        **city, actor_id=city_officer.pk + 1000, object_type="rewards.shop", object_id="9", action="create"
    )
    query = f"actor_id={city_officer.pk}&object_type=rewards.shop&object_id=9&action=create&from=2000-01-01&to=2199-12-31"
    rows = as_user(city_officer).get(f"/api/v1/audit?{query}").json()["results"]
    assert [row["id"] for row in rows] == [wanted.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "from=1999-12-31",
        "to=2200-01-01",
        "from=2024-05-02&to=2024-05-01",
        "from=not-a-date",
        "actor_id=0",
        f"actor_id={2**63}",
        "actor_id=abc",
        "object_type=" + "x" * 101,
        "action=explode",
        "page_size=100000",
    ],
)
def test_junk_filters_are_a_validation_error_not_a_crash(city_officer, as_user, query):
    response = as_user(city_officer).get(f"/api/v1/audit?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.django_db
def test_an_admin_save_leaves_one_row_naming_the_admin(client, admin_user, weidu):
    from rewards.models import Shop

    client.force_login(admin_user)
    response = client.post(
        "/admin/rewards/shop/add/", {"name": "后台超市", "city": weidu.city_id, "merchants": []}
    )
    assert response.status_code == 302, response.content[:500]
    shop = Shop.objects.get(name="后台超市")
    [entry] = AuditEntry.objects.all()
    assert (entry.actor_id, entry.actor_role) == (admin_user.pk, "admin")
    assert (entry.object_type, entry.object_id, entry.action) == ("rewards.shop", str(shop.pk), "create")


@pytest.mark.django_db
def test_the_admin_page_of_the_trail_is_read_only(client, admin_user):
    entry = _entry()
    client.force_login(admin_user)
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 200
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_a_management_command_is_recorded_as_a_system_job(monkeypatch):
    from django.core.management import call_command

    from backend.audit.commands import audited_command

    phone = factories.next_phone()
    monkeypatch.setenv("DJANGO_SUPERUSER_PHONE", phone)
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-enough-passphrase-9")
    with audited_command(["createsuperuser", "--noinput"]):
        call_command("createsuperuser", interactive=False, verbosity=0)
    [entry] = AuditEntry.objects.all()
    assert (entry.actor_kind, entry.actor_label) == ("system", "command:createsuperuser")
    assert entry.object_type == "accounts.user" and entry.changes["password"][1] == "[redacted]"
    assert phone not in str(entry.changes)
