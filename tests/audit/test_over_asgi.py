"""The trail holds when requests arrive through the ASGI application, as they do in production, where
the view runs in a worker thread and the trail's capture must follow it there."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.selectors import city_of
from backend.asgi import application
from backend.audit.models import AuditEntry
from rewards.selectors import rule_versions


async def _patch(path: str, body: dict, token: str):
    raw = json.dumps(body).encode()
    communicator = HttpCommunicator(
        application,
        "PATCH",
        path,
        body=raw,
        headers=[
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(raw)).encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ],
    )
    response = await communicator.get_response(timeout=20)
    return response["status"], json.loads(response["body"])


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_staff_write_over_asgi_leaves_one_row_naming_its_actor(city_officer):
    token = await sync_to_async(lambda: str(RefreshToken.for_user(city_officer).access_token))()
    await sync_to_async(lambda: rule_versions(city_of(city_officer).id))()

    status, body = await _patch("/api/v1/point-rules", {"points_per_accepted_drop": 14}, token)

    assert status == 200, body
    assert body["points_per_accepted_drop"] == 14, body
    entries = await sync_to_async(list)(AuditEntry.objects.all())
    assert len(entries) == 1
    assert (entries[0].actor_id, entries[0].object_type, entries[0].action) == (
        city_officer.pk,
        "rewards.pointrules",
        "create",
    )
    assert entries[0].changes["points_per_accepted_drop"][1] == 14
