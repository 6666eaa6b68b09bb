"""Collects the ORM writes of one staff action (a request, an admin save, a command run) so that
`services.write_entry` can record them as one audit row.

Capture is off unless a caller opens it with `capturing()`, so residents' drops, kiosk deposits and
the ledger pay nothing for it.
"""

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from .masking import storable

# Rows that are plumbing of another write (the ledger's own append-only tables, idempotency records,
# nonces, sessions, tokens) or the trail itself: recording them would repeat the primary change.
IGNORED_APPS = frozenset({"audit", "sessions", "admin", "contenttypes", "token_blacklist", "procrastinate"})
IGNORED_MODELS = frozenset(
    {
        "rewards.account",
        "rewards.ledgertransaction",
        "rewards.posting",
        "rewards.idempotencyrecord",
        "kiosks.kiosknonce",
        "kiosks.dailypoints",
        "accounts.wsticket",
        "accounts.tokenfamily",
        "jobs.jobstatus",
    }
)
MAX_RELATED = 50
# A bulk command may touch many rows; the trail keeps the first ones and the count of the rest.
MAX_CAPTURED = 1000


@dataclass
class Change:
    object_type: str
    object_id: str
    action: str
    changes: dict
    district_id: int | None = None
    city_id: int | None = None


@dataclass
class Capture:
    changes: list[Change] = field(default_factory=list)
    before: dict = field(default_factory=dict)
    dropped: int = 0
    # Asked at a write until it says yes: whether this action is one to record at all. A request learns
    # its user only when the view authenticates, so the answer cannot be had when capture opens;
    # residents' drops and kiosk deposits then pay one check, not a SELECT per saved row.
    gate: Callable[[], bool] | None = None
    _open: bool | None = None

    def open(self) -> bool:
        # Only a yes is kept: a write made while the view was still authenticating must not close
        # the capture for the writes that follow.
        if not self._open:
            self._open = self.gate() if self.gate is not None else True
        return self._open

    def add(self, change: Change) -> None:
        if len(self.changes) >= MAX_CAPTURED:
            self.dropped += 1
        else:
            self.changes.append(change)


_current: ContextVar[Capture | None] = ContextVar("audit_capture", default=None)


def _active() -> Capture | None:
    capture = _current.get()
    return capture if capture is not None and capture.open() else None


@contextmanager
def capturing(gate: Callable[[], bool] | None = None):
    capture = Capture(gate=gate)
    token = _current.set(capture)
    try:
        yield capture
    finally:
        _current.reset(token)


def _label(model) -> str:
    return model._meta.label_lower


def _watched(model) -> bool:
    return model._meta.app_label not in IGNORED_APPS and _label(model) not in IGNORED_MODELS


def _values(instance) -> dict:
    return {f.attname: f.value_from_object(instance) for f in instance._meta.concrete_fields}


def _scope(instance) -> tuple[int | None, int | None]:
    """The district and city a row belongs to, read from the row itself (or its community, or its
    kiosk's: a kiosk alert raised by a job has no actor whose district could stand in)."""
    district_id = getattr(instance, "district_id", None)
    if district_id is None and getattr(instance, "community_id", None):
        district_id = instance.community.district_id
    if district_id is None and getattr(instance, "kiosk_id", None):
        district_id = instance.kiosk.community.district_id
    city_id = getattr(instance, "city_id", None)
    return district_id, city_id


def _record(instance, action: str, before: dict, after: dict) -> None:
    capture = _current.get()
    names = sorted(set(before) | set(after))
    diff = {
        name: [storable(name, before.get(name)), storable(name, after.get(name))]
        for name in names
        if before.get(name) != after.get(name)
    }
    if action == "update" and not diff:
        return
    district_id, city_id = _scope(instance)
    capture.add(Change(_label(type(instance)), str(instance.pk), action, diff, district_id, city_id))


def _pre_save(sender, instance, raw=False, using=None, **kwargs):
    capture = _active()
    if capture is None or raw or not _watched(sender) or instance._state.adding or instance.pk is None:
        return
    names = [f.attname for f in sender._meta.concrete_fields]
    row = sender._base_manager.using(using).filter(pk=instance.pk).values(*names).first()
    capture.before[(sender, instance.pk)] = row or {}


def _post_save(sender, instance, created=False, raw=False, **kwargs):
    capture = _active()
    if capture is None or raw or not _watched(sender):
        return
    before = {} if created else capture.before.pop((sender, instance.pk), {})
    _record(instance, "create" if created else "update", before, _values(instance))


def _post_delete(sender, instance, **kwargs):
    if _active() is None or not _watched(sender):
        return
    _record(instance, "delete", _values(instance), {})


def _m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    capture = _active()
    if capture is None or action not in {"post_add", "post_remove"} or not pk_set:
        return
    if reverse or not _watched(type(instance)):
        return
    name = next(
        (f.name for f in type(instance)._meta.many_to_many if f.remote_field.through is sender), "members"
    )
    ids = sorted(pk_set)
    before, after = (None, {"added": ids}) if action == "post_add" else ({"removed": ids}, None)
    district_id, city_id = _scope(instance)
    capture.add(
        Change(
            _label(type(instance)), str(instance.pk), "update", {name: [before, after]}, district_id, city_id
        )
    )


def connect() -> None:
    pre_save.connect(_pre_save, dispatch_uid="audit_pre_save")
    post_save.connect(_post_save, dispatch_uid="audit_post_save")
    post_delete.connect(_post_delete, dispatch_uid="audit_post_delete")
    m2m_changed.connect(_m2m_changed, dispatch_uid="audit_m2m_changed")
