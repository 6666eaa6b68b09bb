"""Writing the trail: one row per staff action, from what `capture` collected."""

from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser

from backend.observability.context import request_id as current_request_id

from .capture import MAX_RELATED, Capture
from .models import AuditEntry

# Users of these roles are not staff: their writes are residents' own business, not governance.
NON_STAFF_ROLES = frozenset({"resident"})


@dataclass(frozen=True)
class Actor:
    kind: str
    id: int | None = None
    role: str = ""
    label: str = ""
    district_id: int | None = None
    city_id: int | None = None


def user_actor(user) -> Actor | None:
    """The actor for a signed-in person, or None when the person is not staff. A kiosk's signed
    request carries a stand-in principal, not a person: it is no user actor (see `kiosk_actor`)."""
    if not (isinstance(user, AbstractBaseUser) and user.is_authenticated):
        return None
    role = "admin" if user.is_superuser else getattr(user, "role", "")
    if role in NON_STAFF_ROLES and not user.is_staff:
        return None
    return Actor(
        kind=AuditEntry.ActorKind.USER,
        id=user.pk,
        role=role,
        label=str(getattr(user, "public_id", "")),
        district_id=getattr(user, "district_id", None),
        city_id=getattr(user, "city_id", None),
    )


def kiosk_actor(kiosk) -> Actor:
    return Actor(
        kind=AuditEntry.ActorKind.KIOSK,
        id=kiosk.pk,
        role="kiosk",
        label=kiosk.name[:100],
        district_id=kiosk.community.district_id,
    )


def system_actor(job: str) -> Actor:
    return Actor(kind=AuditEntry.ActorKind.SYSTEM, role="system", label=job[:100])


def write_entry(
    actor: Actor,
    capture: Capture,
    *,
    route: str = "",
    route_object: tuple[str, str] | None = None,
    client_address: str = "",
    summary: dict | None = None,
) -> AuditEntry:
    """Record one row: the first row the action changed is its object; the others are listed in
    `related`. An action that changed no row through the ORM is named by its route instead, with
    `summary` (what it says it did) as its changes."""
    if capture.changes:
        primary, others = capture.changes[0], capture.changes[1:]
        object_type, object_id, action, changes = (
            primary.object_type,
            primary.object_id,
            primary.action,
            primary.changes,
        )
        district_id = primary.district_id or actor.district_id
        city_id = primary.city_id or actor.city_id
    else:
        others = []
        object_type, object_id = route_object or (route or actor.label, "")
        action, changes = AuditEntry.Action.OTHER, summary or {}
        district_id, city_id = actor.district_id, actor.city_id
    related = [
        {"object_type": c.object_type, "object_id": c.object_id, "action": c.action}
        for c in others[:MAX_RELATED]
    ]
    return AuditEntry.objects.create(
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_role=actor.role[:20],
        actor_label=actor.label[:100],
        object_type=object_type[:100],
        object_id=object_id[:64],
        action=action,
        changes=changes,
        related=related,
        city_id=city_id,
        district_id=district_id,
        client_address=client_address[:64],
        request_id=current_request_id.get()[:64],
        route=route[:200],
    )
