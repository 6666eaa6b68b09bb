"""Write use cases of rewards: the ledger primitives other areas call, the catalog and redemptions.

Lock order, everywhere: the resident's points account, then the reward row, then the redemption row.
Redeeming locks the account first so one resident's concurrent redemptions cannot both pass the
per-resident limit; stock is taken with a conditional UPDATE so it can never go below zero.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.selectors import city_of, home_city_of
from backend.codes.signing import VOUCHER, CodeUsed, InvalidCode, sign, verify
from backend.errors import NotFound, ValidationFailed
from backend.idempotency import fingerprint, first_answer
from backend.observability.metrics import REDEMPTIONS, count_after_commit
from backend.realtime.groups import user_group
from backend.realtime.publish import publish
from geo.models import City

from .caps import household_room, spend_household_room
from .errors import (
    DuplicateFactor,
    InsufficientPoints,
    LimitReached,
    NotCancellable,
    NotYourShop,
    OutOfStock,
    RewardUnavailable,
    SharedMaterial,
    UnpricedMaterial,
    VersionInPast,
    VersionOverlaps,
)
from .fixtures_data import load_default_emission_factors, load_default_materials
from .ledger import (
    LedgerResult,
    credit,
    debit,
    lock_resident_account,
    memo_columns,
    refund,
    resident_account_id,
    reverse,
)
from .models import (
    EmissionFactor,
    IdempotencyRecord,
    Material,
    Memo,
    PointRules,
    Redemption,
    Reward,
)
from .selectors import (
    VERSIONED_FIELDS,
    forget_cached_rules,
    materials_of_city,
    rule_versions,
    rules_for_city,
)

__all__ = [
    "LedgerResult",
    "add_point_rules_version",
    "cancel_redemption",
    "create_emission_factor",
    "create_material",
    "create_point_rules_version",
    "create_reward",
    "credit",
    "debit",
    "expire_vouchers",
    "fulfil_voucher",
    "household_room",
    "load_reference_rewards",
    "lock_resident_account",
    "memo_columns",
    "redeem_reward",
    "refund",
    "reverse",
    "spend_household_room",
    "update_carbon_rule",
    "update_emission_factor",
    "update_material",
    "update_point_rules",
]

HELD = [Redemption.Status.ISSUED, Redemption.Status.FULFILLED]


def load_reference_rewards(city) -> None:
    """The default materials and the city's point rules; safe to run any number of times."""
    load_default_materials(Material)
    rules_for_city(city.id)
    load_default_emission_factors(EmissionFactor, Material, city)


@dataclass(frozen=True)
class RedemptionResult:
    body: dict


def create_reward(**fields) -> Reward:
    fields.setdefault("total_stock", fields.get("stock", 0))
    return Reward.objects.create(**fields)


def _checked_weight_range(material: Material) -> None:
    if material.min_weight_g > material.max_weight_g:
        raise ValidationFailed(fields={"max_weight_g": [_("Must not be below min_weight_g.")]})


@transaction.atomic
def create_material(*, actor, points_per_kg: int, **fields) -> Material:
    """A material of the actor's city, priced in a new version of its rules."""
    city_id = city_of(actor).id
    material = Material(city_id=city_id, points_per_kg=points_per_kg, **fields)
    _checked_weight_range(material)
    material.save()
    if material.active:
        add_point_rules_version(
            city_id=city_id, reprice=lambda prices: prices | {material.code: points_per_kg}
        )
    return material


@transaction.atomic
def update_material(*, actor, code: str, points_per_kg: int | None = None, **fields) -> Material:
    """Change a material for the actor's city.

    The price, and whether the city takes a material at all (`active`), are the city's own and go into
    a new version of its rules. The other fields of a material the city added are its own too; those of
    a reference material are shared by every city, so only an administrator changes them.
    """
    city_id = city_of(actor).id
    material = materials_of_city(city_id).select_for_update().filter(code=code).first()
    if material is None:
        raise NotFound()
    if material.city_id is None and not actor.is_superuser:
        takes = fields.pop("active", None)
        if fields:
            raise SharedMaterial()
    else:
        takes = fields.get("active")
        for name, value in fields.items():
            setattr(material, name, value)
        _checked_weight_range(material)
        material.save()

    def reprice(prices: dict[str, int]) -> dict[str, int]:
        if takes is False:
            prices.pop(material.code, None)
        elif points_per_kg is not None:
            prices[material.code] = points_per_kg
        elif takes:
            prices.setdefault(material.code, material.points_per_kg)
        return prices

    add_point_rules_version(city_id=city_id, reprice=reprice)
    return material


def _check_priced_materials(city_id: int, prices: dict) -> None:
    unknown = sorted(set(prices) - set(materials_of_city(city_id).values_list("code", flat=True)))
    if unknown:
        raise UnpricedMaterial(fields={"material_prices": unknown})


def update_point_rules(*, actor, **fields) -> PointRules:
    """A change of the actor's city's rules: a new version, in force once every process can see it."""
    return create_point_rules_version(actor=actor, **fields)


def create_point_rules_version(*, actor, effective_from: datetime | None = None, **fields) -> PointRules:
    return add_point_rules_version(city_id=city_of(actor).id, effective_from=effective_from, **fields)


@transaction.atomic
def add_point_rules_version(
    *,
    city_id: int,
    effective_from: datetime | None = None,
    reprice: Callable[[dict[str, int]], dict[str, int]] | None = None,
    **fields,
) -> PointRules:
    """A new version of the city's rules; fields not given are the latest version's.

    `reprice` turns the latest price list into the new one. It runs under the city's lock, so two
    officers changing two prices at once each build on the other's change; a reprice that changes
    nothing (and no other field) adds no version and answers the latest.

    It may not start in the past (beyond POINT_RULES_NOTICE_SECONDS of request latency), nor at or
    before the latest version, scheduled ones included: versions follow each other. It starts no sooner
    than POINT_RULES_PROPAGATION_SECONDS from now, when every process's rules cache holds it, so no
    process rates a deposit or a drop made after its start under the version before.
    """
    now = timezone.now()
    starts = effective_from or now
    if starts < now - timedelta(seconds=settings.POINT_RULES_NOTICE_SECONDS):
        raise VersionInPast(extra={"notice_seconds": settings.POINT_RULES_NOTICE_SECONDS})
    starts = max(starts, now + timedelta(seconds=settings.POINT_RULES_PROPAGATION_SECONDS))
    # The city row serialises its versions: two officers cannot both add "the next" one.
    City.objects.select_for_update().filter(pk=city_id).first()
    latest = rule_versions(city_id)[-1]
    if reprice is not None:
        prices = reprice(dict(latest.material_prices))
        if prices == latest.material_prices and not fields:
            return latest
        fields["material_prices"] = prices
    if starts <= latest.effective_from:
        raise VersionOverlaps(
            extra={
                "latest_version": latest.version,
                "latest_effective_from": latest.effective_from.isoformat(),
            }
        )
    if "material_prices" in fields:
        _check_priced_materials(city_id, fields["material_prices"])
    values = {name: getattr(latest, name) for name in VERSIONED_FIELDS} | fields
    version = PointRules.objects.create(
        city_id=city_id, version=latest.version + 1, effective_from=starts, **values
    )
    transaction.on_commit(forget_cached_rules)
    return version


def _claim_idempotency_key(user, scope: str, key: str, payload: dict) -> IdempotencyRecord | dict:
    """Insert the key in the caller's transaction; a stored first answer is returned instead when it exists.

    A concurrent request with the same key waits here until the first commits or rolls back.
    """
    expected = fingerprint(payload)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO rewards_idempotencyrecord (user_id, scope, key, fingerprint, response, created_at) "
            "VALUES (%s, %s, %s, %s, NULL, now()) ON CONFLICT (user_id, scope, key) DO NOTHING RETURNING id",
            [user.pk, scope, key, expected],
        )
        row = cursor.fetchone()
    if row:
        return IdempotencyRecord(pk=row[0], user=user, scope=scope, key=key, fingerprint=expected)
    existing = IdempotencyRecord.objects.get(user=user, scope=scope, key=key)
    return first_answer(
        stored_fingerprint=existing.fingerprint, response=existing.response, expected_fingerprint=expected
    )


def _redemption_body(redemption: Redemption, balance: int) -> dict:
    return {
        "id": redemption.pk,
        "status": redemption.status,
        "voucher_code": redemption.voucher_code,
        "points_spent": redemption.points_spent,
        "balance": balance,
        "reward_id": redemption.reward_id,
        "quantity": redemption.quantity,
    }


def redeem_reward(
    *, resident, reward_id: int, quantity: int, idempotency_key: str | None = None
) -> RedemptionResult:
    """Reserve stock, spend points and issue a voucher, all or nothing."""
    with transaction.atomic():
        record = None
        if idempotency_key:
            claimed = _claim_idempotency_key(
                resident, "redeem", idempotency_key, {"reward_id": reward_id, "quantity": quantity}
            )
            if isinstance(claimed, dict):
                return RedemptionResult(claimed)
            record = claimed
        account_id = resident_account_id(resident)
        with connection.cursor() as cursor:
            cursor.execute("SELECT balance FROM rewards_account WHERE id = %s FOR UPDATE", [account_id])
            balance = cursor.fetchone()[0]
        now = timezone.now()
        reward = Reward.objects.filter(pk=reward_id).select_related("shop").first()
        if (
            reward is None
            # Another city's reward is paid for by that city: to this resident it does not exist.
            or reward.shop.city_id != home_city_of(resident).id
            or not reward.active
            or (reward.valid_from and reward.valid_from > now)
            or (reward.valid_until and reward.valid_until <= now)
        ):
            raise RewardUnavailable()
        cost = reward.points_cost * quantity
        if balance < cost:
            raise InsufficientPoints(extra={"balance": balance, "points_needed": cost})
        if reward.per_resident_limit is not None:
            held = (
                Redemption.objects.filter(resident=resident, reward=reward, status__in=HELD).aggregate(
                    total=Sum("quantity")
                )["total"]
                or 0
            )
            if held + quantity > reward.per_resident_limit:
                raise LimitReached(extra={"limit": reward.per_resident_limit, "held": held})
        taken = Reward.objects.filter(pk=reward.pk, stock__gte=quantity).update(stock=F("stock") - quantity)
        if not taken:
            raise OutOfStock()
        redemption = Redemption.objects.create(
            resident=resident, reward=reward, quantity=quantity, points_spent=cost
        )
        redemption.voucher_code = sign(VOUCHER, {"r": redemption.pk, "n": secrets.token_hex(4)})
        redemption.save(update_fields=["voucher_code"])
        result = debit(
            resident=resident,
            amount=cost,
            cause=f"redeem:{redemption.pk}",
            memo=Memo.REDEEM,
            memo_params={"reward": reward.name},
        )
        body = _redemption_body(redemption, result.balance)
        if record is not None:
            IdempotencyRecord.objects.filter(pk=record.pk).update(response=body)
        _announce(redemption, result.balance)
        count_after_commit(REDEMPTIONS)
    return RedemptionResult(body)


def _announce(redemption: Redemption, balance: int | None) -> None:
    publish(
        user_group(redemption.resident_id),
        "redemption.updated",
        {"id": redemption.pk, "status": redemption.status, "balance": balance},
    )


def _close_with_refund(redemption: Redemption, status: str, cause: str) -> LedgerResult:
    """Move an issued redemption to a closed state, refund its points and restock, exactly once.

    The caller holds the redemption row lock; the conditional update makes a racing fulfil lose cleanly.
    """
    closed = Redemption.objects.filter(pk=redemption.pk, status=Redemption.Status.ISSUED).update(
        status=status, closed_at=timezone.now()
    )
    if not closed:
        raise NotCancellable()
    result = refund(resident=redemption.resident, amount=redemption.points_spent, cause=cause)
    Reward.objects.filter(pk=redemption.reward_id).update(stock=F("stock") + redemption.quantity)
    redemption.status = status
    _announce(redemption, result.balance)
    return result


def cancel_redemption(*, resident, redemption_id: int) -> tuple[Redemption, int]:
    with transaction.atomic():
        redemption = (
            Redemption.objects.select_for_update()
            .select_related("resident")
            .filter(pk=redemption_id, resident=resident)
            .first()
        )
        if redemption is None:
            raise NotFound()
        if redemption.status != Redemption.Status.ISSUED:
            raise NotCancellable()
        # Lock the account before the reward row, as redeem does.
        resident_account_id(resident)
        result = _close_with_refund(redemption, Redemption.Status.CANCELLED, f"cancel:{redemption.pk}")
        redemption.refresh_from_db()
    return redemption, result.balance


def fulfil_voucher(*, merchant, voucher_code: str) -> Redemption:
    try:
        payload = verify(VOUCHER, voucher_code)
        redemption_id = int(payload["r"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidCode() from exc
    with transaction.atomic():
        redemption = (
            Redemption.objects.select_for_update().select_related("reward").filter(pk=redemption_id).first()
        )
        if redemption is None or redemption.voucher_code != voucher_code:
            raise InvalidCode()
        if not merchant.is_superuser and not redemption.reward.shop.merchants.filter(pk=merchant.pk).exists():
            raise NotYourShop()
        done = Redemption.objects.filter(pk=redemption.pk, status=Redemption.Status.ISSUED).update(
            status=Redemption.Status.FULFILLED, fulfilled_at=timezone.now(), fulfilled_by=merchant
        )
        if not done:
            raise CodeUsed()
        redemption.refresh_from_db()
        _announce(redemption, None)
    return redemption


def expire_vouchers(*, now=None) -> int:
    """Close issued vouchers whose reward window has ended, refunding and restocking each once."""
    now = now or timezone.now()
    expired = 0
    candidates = (
        Redemption.objects.filter(status=Redemption.Status.ISSUED)
        .filter(Q(reward__valid_until__lte=now))
        .values_list("pk", flat=True)
    )
    for redemption_id in list(candidates.iterator()):
        with transaction.atomic():
            redemption = (
                Redemption.objects.select_for_update(skip_locked=True)
                .select_related("resident")
                .filter(pk=redemption_id, status=Redemption.Status.ISSUED)
                .first()
            )
            if redemption is None:
                continue
            resident_account_id(redemption.resident)
            _close_with_refund(redemption, Redemption.Status.EXPIRED, f"expire:{redemption.pk}")
            expired += 1
    return expired


# ---- carbon ---------------------------------------------------------------------------------------


def update_carbon_rule(*, actor, enabled: bool | None = None, points_per_kg_co2e: int | None = None):
    """Switch the city's carbon-reduction points on or off or set their rate: a new version of its rules."""
    changes = {"carbon_points_enabled": enabled, "points_per_kg_co2e": points_per_kg_co2e}
    return create_point_rules_version(
        actor=actor, **{name: value for name, value in changes.items() if value is not None}
    )


def _saved_factor(factor: EmissionFactor) -> EmissionFactor:
    try:
        with transaction.atomic():
            factor.save()
    except IntegrityError as exc:
        raise DuplicateFactor() from exc
    return factor


def create_emission_factor(
    *, actor, material: Material | None, category: str, destination: str, **fields
) -> EmissionFactor:
    """A factor for a material or for a waste category (exactly one), once per destination in a city."""
    if (material is None) == (not category):
        message = _("Give either material or category.")
        raise ValidationFailed(fields={"material": [message], "category": [message]})
    factor = EmissionFactor(
        city=city_of(actor), material=material, category="" if material else category, destination=destination
    )
    for name, value in fields.items():
        setattr(factor, name, value)
    return _saved_factor(factor)


def update_emission_factor(*, actor, factor_id: int, **fields) -> EmissionFactor:
    with transaction.atomic():
        factor = (
            EmissionFactor.objects.select_for_update()
            .filter(pk=factor_id, city=city_of(actor))
            .order_by()
            .first()
        )
        if factor is None:
            raise NotFound()
        for name, value in fields.items():
            setattr(factor, name, value)
        return _saved_factor(factor)


# Shops and merchants: their own module, offered to the API through this one.
from .shops import add_merchant, create_shop, remove_merchant, update_shop  # noqa: E402, F401
