"""Publishing is a hint after commit: it never fails, undoes or holds the write that caused it."""

import asyncio
import threading

import pytest
from django.db import transaction

from backend.observability.metrics import REALTIME_DROPPED
from backend.realtime import publish as publish_module
from backend.realtime.publish import drain, publish
from geo.models import Community
from tests.layers import RecordingLayer


class HeldLayer(RecordingLayer):
    """Holds every group send until the test releases it: a Redis that is slow to answer."""

    def __init__(self):
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()

    async def group_send(self, group, message):
        self.started.set()
        await asyncio.to_thread(self.release.wait, 10)
        await super().group_send(group, message)


@pytest.fixture
def held_layer(monkeypatch):
    held = HeldLayer()
    monkeypatch.setattr(publish_module, "get_channel_layer", lambda: held)
    yield held
    held.release.set()
    drain(5)


def _dropped(reason: str) -> float:
    return REALTIME_DROPPED.labels(reason=reason)._value.get()


@pytest.mark.django_db(transaction=True)
def test_an_event_is_sent_only_after_the_commit(layer, xuchang):
    from geo.models import District

    with transaction.atomic():
        Community.objects.create(district=District.objects.get(slug="weidu"), name="事件社区")
        publish("user.1", "points.credited", {"amount": 3})
        assert drain(5)
        assert layer.sent == []

    assert drain(5)
    assert layer.sent == [
        ("user.1", {"type": "event.message", "event": "points.credited", "data": {"amount": 3}})
    ]


@pytest.mark.django_db(transaction=True)
def test_no_event_leaves_a_rolled_back_transaction(layer):
    with pytest.raises(RuntimeError), transaction.atomic():
        publish("user.1", "points.credited", {"amount": 3})
        raise RuntimeError("write failed")

    assert drain(5)
    assert layer.sent == []


@pytest.mark.django_db(transaction=True)
def test_a_broken_channel_layer_never_undoes_the_write_and_the_loss_is_counted(monkeypatch, xuchang):
    from geo.models import District

    def broken():
        raise ConnectionError("redis is down")

    monkeypatch.setattr(publish_module, "get_channel_layer", broken)
    before = _dropped("send_failed")

    with transaction.atomic():
        Community.objects.create(district=District.objects.get(slug="weidu"), name="坚固社区")
        publish("user.1", "points.credited", {"amount": 3})

    assert Community.objects.filter(name="坚固社区").exists()
    assert drain(5)
    assert _dropped("send_failed") == before + 1


@pytest.mark.django_db(transaction=True)
def test_the_commit_returns_while_the_channel_layer_is_still_sending(held_layer):
    with transaction.atomic():
        publish("user.1", "points.credited", {"amount": 3})

    # The commit came back although the send cannot have finished: the layer holds it until released.
    assert held_layer.started.wait(5)
    assert held_layer.sent == []
    held_layer.release.set()
    assert drain(5)
    assert [group for group, _message in held_layer.sent] == ["user.1"]


@pytest.mark.django_db(transaction=True)
def test_events_beyond_the_bound_are_dropped_logged_and_counted(held_layer, monkeypatch, caplog):
    monkeypatch.setattr(publish_module, "MAX_PENDING", 2)
    monkeypatch.setattr(publish_module, "_background", publish_module._BackgroundPublisher())
    before = _dropped("queue_full")

    with transaction.atomic():
        publish("user.1", "points.credited", {"n": 0})
    assert held_layer.started.wait(5)  # the first is in flight, out of the queue
    with transaction.atomic():
        for n in range(1, 5):
            publish("user.1", "points.credited", {"n": n})

    assert _dropped("queue_full") == before + 2
    assert sum("dropped points.credited" in record.getMessage() for record in caplog.records) == 2
    held_layer.release.set()
    assert publish_module._background.drain(5)
    assert [message["data"]["n"] for _group, message in held_layer.sent] == [0, 1, 2]
