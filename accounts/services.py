"""Write use cases of accounts: registration, households, staff, WebSocket tickets."""

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.codes.signing import RESIDENT, CodeUsed, ExpiredCode, InvalidCode, expires_at, sign
from backend.errors import NotFound
from geo.models import City, Community, District

from . import tokens
from .errors import (
    CommunityExists,
    InvalidDisplayName,
    InvalidPhone,
    InvalidTicket,
    NotInHousehold,
    OutOfScope,
    PhoneTaken,
    RequestDecided,
    RoleNotAllowed,
    WeakPassword,
)
from .models import (
    CREATABLE_ROLES,
    Household,
    HouseholdInvitation,
    HouseholdJoinRequest,
    Role,
    User,
    WsTicket,
    clean_display_name,
)
from .phone import normalise_phone
from .selectors import can_manage_district, city_of, household_requests_visible_to

WS_TICKET_LIFETIME = timedelta(seconds=30)


def _checked_password(password: str, user: User) -> None:
    # Django's similarity check skips attributes that are not str, and a PhoneNumber is not one.
    subject = SimpleNamespace(phone=str(user.phone), display_name=user.display_name, _meta=user._meta)
    try:
        validate_password(password, subject)
    except ValidationError as exc:
        raise WeakPassword(fields={"password": list(exc.messages)}) from exc


DISPLAY_NAME_LENGTH = User._meta.get_field("display_name").max_length


def _checked_display_name(name: str) -> str:
    cleaned = clean_display_name(name)
    if not cleaned or len(cleaned) > DISPLAY_NAME_LENGTH:
        raise InvalidDisplayName(fields={"display_name": [str(InvalidDisplayName.message)]})
    return cleaned


def _new_user(*, phone: str, password: str, display_name: str, **fields) -> User:
    normalised = normalise_phone(phone)
    if not normalised:
        raise InvalidPhone(fields={"phone": [str(InvalidPhone.message)]})
    user = User(phone=normalised, display_name=_checked_display_name(display_name), **fields)
    _checked_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise PhoneTaken() from exc
    return user


def register_resident(*, phone: str, password: str, display_name: str) -> User:
    return _new_user(phone=phone, password=password, display_name=display_name, role=Role.RESIDENT)


def normalise_address(address: str) -> str:
    return re.sub(r"\s+", " ", address).strip()


@dataclass(frozen=True)
class HouseholdJoin:
    household: Household
    # Set when the household has members and no invitation came: the resident waits for staff.
    request: HouseholdJoinRequest | None = None


def _invitation_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _spend_invitation(code: str, household: Household, user: User) -> None:
    invitation = (
        HouseholdInvitation.objects.select_for_update()
        .filter(digest=_invitation_digest(code), household=household)
        .first()
    )
    if invitation is None:
        raise InvalidCode()
    if invitation.used_at is not None:
        raise CodeUsed()
    now = timezone.now()
    if invitation.expires_at <= now:
        raise ExpiredCode()
    invitation.used_by, invitation.used_at = user, now
    invitation.save(update_fields=["used_by", "used_at"])


def _withdraw_pending(user: User) -> None:
    HouseholdJoinRequest.objects.filter(resident=user, status=HouseholdJoinRequest.Status.PENDING).update(
        status=HouseholdJoinRequest.Status.WITHDRAWN
    )


def join_household(
    *, user: User, community: Community, address: str, invitation_code: str = ""
) -> HouseholdJoin:
    """Join the household at this address. An address nobody lives at is created and joined at once;
    a household with members takes a member's invitation code, or else a request staff decide.

    The household row is locked while its members are counted, so two strangers racing to an empty
    address cannot both find it empty: one joins, the other's request waits for staff.
    """
    with transaction.atomic():
        household, _created = Household.objects.get_or_create(
            community=community, address=normalise_address(address)
        )
        household = Household.objects.select_for_update().get(pk=household.pk)
        if user.household_id == household.pk:
            return HouseholdJoin(household)
        if invitation_code:
            _spend_invitation(invitation_code, household, user)
        elif User.objects.filter(household=household, is_active=True).exclude(pk=user.pk).exists():
            _withdraw_pending(user)
            request = HouseholdJoinRequest.objects.create(resident=user, household=household)
            return HouseholdJoin(household, request)
        _withdraw_pending(user)
        user.household = household
        user.save(update_fields=["household"])
        return HouseholdJoin(household)


def issue_household_invitation(*, user: User):
    """A single-use code a member gives someone to join their household; only its digest is kept."""
    if user.household_id is None:
        raise NotInHousehold()
    code = secrets.token_urlsafe(12)
    valid_until = timezone.now() + timedelta(hours=settings.HOUSEHOLD_INVITATION_HOURS)
    HouseholdInvitation.objects.create(
        household_id=user.household_id,
        issued_by=user,
        digest=_invitation_digest(code),
        expires_at=valid_until,
    )
    return code, valid_until


def decide_household_request(*, actor: User, request_id: int, approve: bool) -> HouseholdJoinRequest:
    """A community's staff let a resident into a household, or refuse; once, all or nothing."""
    with transaction.atomic():
        request = (
            household_requests_visible_to(actor)
            .select_for_update(of=("self",))
            .select_related("resident", "household")
            .filter(pk=request_id)
            .first()
        )
        if request is None:
            raise NotFound()
        if request.status != HouseholdJoinRequest.Status.PENDING:
            raise RequestDecided()
        request.status = (
            HouseholdJoinRequest.Status.APPROVED if approve else HouseholdJoinRequest.Status.REFUSED
        )
        request.decided_by, request.decided_at = actor, timezone.now()
        request.save(update_fields=["status", "decided_by", "decided_at"])
        if approve:
            User.objects.filter(pk=request.resident_id).update(household=request.household)
    return request


def create_staff(
    *,
    actor: User,
    phone: str,
    password: str,
    display_name: str,
    role: str,
    district: District | None = None,
    city: City | None = None,
    community_ids: Iterable[int] = (),
) -> User:
    """A staff member of the creator's city. Only an administrator names another city (for a city officer of
    an installation with several cities); anyone else naming a city not their own is out of scope."""
    community_ids = set(community_ids)
    communities = list(Community.objects.filter(id__in=community_ids))
    if len(communities) != len(community_ids):
        raise NotFound(_("Unknown community."), fields={"community_ids": [_("Unknown community.")]})
    if district is not None and not can_manage_district(actor, district):
        raise OutOfScope()
    is_admin = actor.is_superuser or actor.role == Role.ADMIN
    if city is not None and not is_admin and city != city_of(actor):
        raise OutOfScope()
    if city is not None and district is not None and district.city_id != city.id:
        message = _("The district lies in another city.")
        raise OutOfScope(message, fields={"district_id": [message]})
    if not is_admin and role not in CREATABLE_ROLES.get(actor.role, frozenset()):
        raise RoleNotAllowed()
    if actor.role == Role.DISTRICT_OFFICER and district is None:
        # A district officer only ever staffs their own district, even when the request names none.
        district = actor.district
    if role == Role.CITY_OFFICER:
        district = None
        city = city or city_of(actor)
    elif role in {Role.DISTRICT_OFFICER, Role.INSPECTOR} and district is None:
        message = _("This role needs a district.")
        raise OutOfScope(message, fields={"district_id": [message]})
    if communities and role != Role.INSPECTOR:
        message = _("Only inspectors are assigned communities.")
        raise OutOfScope(message, fields={"community_ids": [message]})
    if any(community.district_id != (district.id if district else None) for community in communities):
        message = _("Every community must lie in the staff member's district.")
        raise OutOfScope(message, fields={"community_ids": [message]})
    with transaction.atomic():
        user = _new_user(
            phone=phone,
            password=password,
            display_name=display_name,
            role=role,
            district=district,
            city=city if role == Role.CITY_OFFICER else None,
        )
        if communities:
            user.communities.set(communities)
    return user


def _hash_ticket(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def issue_ws_ticket(*, user: User) -> tuple[str, timezone.datetime]:
    ticket = secrets.token_urlsafe(32)
    expires_at = timezone.now() + WS_TICKET_LIFETIME
    WsTicket.objects.create(token_hash=_hash_ticket(ticket), user=user, expires_at=expires_at)
    return ticket, expires_at


def redeem_ws_ticket(ticket: str) -> User:
    """Spend a ticket: one conditional UPDATE, so two sockets racing with one ticket cannot both win."""
    if not ticket or len(ticket) > 128:
        raise InvalidTicket()
    now = timezone.now()
    used = (
        WsTicket.objects.filter(token_hash=_hash_ticket(ticket), used_at__isnull=True, expires_at__gt=now)
        .select_related(None)
        .update(used_at=now)
    )
    if used != 1:
        raise InvalidTicket()
    ticket_row = WsTicket.objects.select_related("user").get(token_hash=_hash_ticket(ticket))
    if not ticket_row.user.is_active:
        raise InvalidTicket()
    return ticket_row.user


def purge_ws_tickets(*, older_than: timedelta = timedelta(hours=1)) -> int:
    deleted, _ = WsTicket.objects.filter(expires_at__lt=timezone.now() - older_than).delete()
    return deleted


def create_community(*, actor: User, district: District, name: str) -> Community:
    if not can_manage_district(actor, district):
        raise OutOfScope()
    try:
        with transaction.atomic():
            return Community.objects.create(district=district, name=name.strip())
    except IntegrityError as exc:
        raise CommunityExists(fields={"name": [str(CommunityExists.message)]}) from exc


def issue_resident_code(user: User, *, issued_at=None):
    """A fresh code each call; the nonce makes every code distinct so a screenshot ages out fast.

    `issued_at` dates the code in the past, as a kiosk simulator replaying an offline day needs.
    """
    # Signatures carry whole seconds, so the code dies up to a second before now + max_age: promise no more.
    dated = issued_at is not None
    issued_at = (issued_at or timezone.now()).replace(microsecond=0)
    code = sign(
        RESIDENT, {"u": user.public_id.hex, "n": secrets.token_hex(3)}, issued_at=issued_at if dated else None
    )
    return code, expires_at(RESIDENT, issued_at)


def start_token_family(user: User):
    """A sign-in's first refresh token (its access token is `.access_token`)."""
    return tokens.start_family(user)


def rotate_refresh_token(raw: str) -> dict[str, str]:
    """`{access, refresh}` for a valid, unused refresh token; a reused one revokes its whole family."""
    return tokens.rotate(raw)


def revoke_refresh_token(raw: str) -> None:
    tokens.revoke(raw)


def update_profile(*, user: User, display_name: str | None = None, leaderboard: bool | None = None) -> User:
    """Change what a user shows of themselves: their name (cleaned as at registration) and whether
    they appear on leaderboards."""
    changed = []
    if display_name is not None:
        user.display_name = _checked_display_name(display_name)
        changed.append("display_name")
    if leaderboard is not None:
        user.leaderboard_opt_in = leaderboard
        changed.append("leaderboard_opt_in")
    if changed:
        user.save(update_fields=changed)
    return user
