"""Publishing is a hint after commit: it never fails or undoes the write that caused it."""

import pytest
from django.db import transaction

from backend.realtime import publish as publish_module
from backend.realtime.publish import publish
from geo.models import Community


class RecordingLayer:
    def __init__(self):
        self.sent = []

    async def group_send(self, group, message):
        self.sent.append((group, message))


@pytest.fixture
def layer(monkeypatch):
    recording = RecordingLayer()
    monkeypatch.setattr(publish_module, "get_channel_layer", lambda: recording)
    return recording


@pytest.mark.django_db(transaction=True)
def test_an_event_is_sent_only_after_the_commit(layer, xuchang):
    from geo.models import District

    with transaction.atomic():
        Community.objects.create(district=District.objects.get(slug="weidu"), name="事件社区")
        publish("user.1", "points.credited", {"amount": 3})
        assert layer.sent == []

    assert layer.sent == [
        ("user.1", {"type": "event.message", "event": "points.credited", "data": {"amount": 3}})
    ]


@pytest.mark.django_db(transaction=True)
def test_no_event_leaves_a_rolled_back_transaction(layer):
    with pytest.raises(RuntimeError), transaction.atomic():
        publish("user.1", "points.credited", {"amount": 3})
        raise RuntimeError("write failed")

    assert layer.sent == []


@pytest.mark.django_db(transaction=True)
def test_a_broken_channel_layer_never_undoes_the_write(monkeypatch, xuchang):
    from geo.models import District

    def broken():
        raise ConnectionError("redis is down")

    monkeypatch.setattr(publish_module, "get_channel_layer", broken)

    with transaction.atomic():
        Community.objects.create(district=District.objects.get(slug="weidu"), name="坚固社区")
        publish("user.1", "points.credited", {"amount": 3})

    assert Community.objects.filter(name="坚固社区").exists()
