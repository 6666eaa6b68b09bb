"""The points ledger: append-only, double-entry, exactly once per cause.

Every function here is safe to call twice with the same cause: the transaction row's unique
idempotency key is inserted first, in the same database transaction as the postings and the balance
change, so a second call (or a concurrent one, which waits on the first's key) finds the first result.
Callers may wrap these in their own `transaction.atomic()` to commit other rows with the postings.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import override
from psycopg.types.json import Jsonb

from backend.observability.metrics import CREDITS, POINTS_CREDITED, count_after_commit
from backend.realtime.groups import user_group
from backend.realtime.publish import publish

from .errors import InsufficientPoints, InvalidAmount, LedgerUnavailable
from .models import Account, LedgerTransaction, Memo
from .selectors import render_memo


@dataclass(frozen=True)
class LedgerResult:
    transaction_id: int
    balance: int
    created: bool


SYSTEM_KINDS = [Account.Kind.ISSUANCE, Account.Kind.REDEMPTION, Account.Kind.EXPIRY, Account.Kind.ADJUSTMENT]


def ensure_system_accounts() -> None:
    """System accounts come with the migrations; this restores them where a test flushed the tables."""
    for kind in SYSTEM_KINDS:
        Account.objects.get_or_create(kind=kind, owner=None)


def resident_account_id(resident) -> int:
    return lock_resident_account(resident)[0]


def lock_resident_account(resident) -> tuple[int, int]:
    """(account id, balance) of the resident's account, created on first use and row-locked until commit.

    The no-op DO UPDATE is what takes the lock and returns the row in one round trip either way.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO rewards_account (kind, owner_id, balance, created_at) VALUES ('resident', %s, 0, now()) "
            "ON CONFLICT (owner_id) DO UPDATE SET balance = rewards_account.balance RETURNING id, balance",
            [resident.pk],
        )
        return cursor.fetchone()


# One statement, one round trip: claim the cause's key, move the resident's balance (only if it stays
# non-negative), write both postings. Each step runs only if the one before it did, so a repeated cause
# changes nothing and an overdraft writes no posting (the caller's transaction then rolls back the key).
_POST = """
WITH claimed AS (
    INSERT INTO rewards_ledgertransaction
        (idempotency_key, kind, memo, memo_key, memo_params, reverses_id, created_at)
    VALUES (%(key)s, %(kind)s, %(memo)s, %(memo_key)s, %(memo_params)s, %(reverses)s, now())
    ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
), moved AS (
    UPDATE rewards_account SET balance = balance + %(amount)s
    WHERE id = %(account)s AND balance + %(amount)s >= 0 AND EXISTS (SELECT 1 FROM claimed)
    RETURNING balance
), posted AS (
    INSERT INTO rewards_posting (transaction_id, account_id, amount, created_at)
    SELECT claimed.id, leg.account_id, leg.amount, now()
    FROM claimed, moved, (VALUES
        (%(account)s::bigint, %(amount)s::bigint),
        ((SELECT id FROM rewards_account WHERE kind = %(system)s AND owner_id IS NULL), -%(amount)s::bigint)
    ) AS leg (account_id, amount)
    RETURNING 1
)
SELECT (SELECT id FROM claimed), (SELECT balance FROM moved), (SELECT count(*) FROM posted)
"""


def _existing(cursor, key: str, resident_account: int) -> LedgerResult:
    cursor.execute(
        "SELECT t.id, a.balance FROM rewards_ledgertransaction t, rewards_account a "
        "WHERE t.idempotency_key = %s AND a.id = %s",
        [key, resident_account],
    )
    transaction_id, balance = cursor.fetchone()
    return LedgerResult(transaction_id, balance, created=False)


def memo_columns(memo: str | Memo, params: dict | None) -> dict:
    """A keyed memo is stored as its key and values, and as its text in the site's own language."""
    if not isinstance(memo, Memo):
        return {"memo": memo[:200], "memo_key": "", "memo_params": None}
    with override(settings.LANGUAGE_CODE):
        text = render_memo(memo, params or {})
    return {"memo": text[:200], "memo_key": memo.value, "memo_params": Jsonb(params or {})}


def _move(
    *,
    resident,
    amount: int,
    cause: str,
    kind: str,
    memo: dict,
    system_kind: str,
    reverses_id: int | None = None,
) -> LedgerResult:
    """Post `amount` to the resident (negative: from the resident) against one system account."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise InvalidAmount()
    # Only a debit can be refused, so only a debit pays for a savepoint (two round trips) that lets a
    # caller catch InsufficientPoints and go on; a credit, the hot path of every deposit, needs none.
    with transaction.atomic(savepoint=amount < 0), connection.cursor() as cursor:
        account_id, _balance = lock_resident_account(resident)
        cursor.execute(
            _POST,
            {
                "key": cause,
                "kind": kind,
                **memo,
                "reverses": reverses_id,
                "amount": amount,
                "account": account_id,
                "system": system_kind,
            },
        )
        transaction_id, balance, postings = cursor.fetchone()
        if transaction_id is None:
            return _existing(cursor, cause, account_id)
        if balance is None:
            raise InsufficientPoints()
        if postings != 2:
            raise LedgerUnavailable()
        return LedgerResult(transaction_id, balance, created=True)


def credit(
    *,
    resident,
    amount: int,
    cause: str,
    kind: str,
    memo: str | Memo = "",
    memo_params: dict | None = None,
) -> LedgerResult:
    """Issue points to a resident for a cause such as `deposit:<uuid>` or `drop:<id>`."""
    if amount <= 0:
        raise InvalidAmount()
    note = memo_columns(memo, memo_params)
    result = _move(
        resident=resident, amount=amount, cause=cause, kind=kind, memo=note, system_kind=Account.Kind.ISSUANCE
    )
    if result.created:
        count_after_commit(CREDITS, kind=kind)
        count_after_commit(POINTS_CREDITED, amount, kind=kind)
        publish(
            user_group(resident.pk),
            "points.credited",
            {
                "amount": amount,
                "kind": kind,
                "balance": result.balance,
                "transaction_id": result.transaction_id,
            },
        )
    return result


def debit(
    *,
    resident,
    amount: int,
    cause: str,
    kind: str = LedgerTransaction.Kind.REDEEM,
    memo: str | Memo = "",
    memo_params: dict | None = None,
) -> LedgerResult:
    """Spend a resident's points (a redemption); InsufficientPoints leaves everything unchanged."""
    if amount <= 0:
        raise InvalidAmount()
    system_kind = Account.Kind.EXPIRY if kind == LedgerTransaction.Kind.EXPIRY else Account.Kind.REDEMPTION
    note = memo_columns(memo, memo_params)
    return _move(
        resident=resident, amount=-amount, cause=cause, kind=kind, memo=note, system_kind=system_kind
    )


def refund(*, resident, amount: int, cause: str, memo: str = "") -> LedgerResult:
    """Give back points a redemption took (cancel or voucher expiry)."""
    if amount <= 0:
        raise InvalidAmount()
    return _move(
        resident=resident,
        amount=amount,
        cause=cause,
        kind=LedgerTransaction.Kind.REFUND,
        memo=memo_columns(memo, None),
        system_kind=Account.Kind.REDEMPTION,
    )


def reverse(*, original_cause: str, cause: str, memo: str = "") -> LedgerResult:
    """Post the exact opposite of an earlier transaction, once; a reversal may not overdraw the resident."""
    original = LedgerTransaction.objects.get(idempotency_key=original_cause)
    postings = list(original.postings.select_related("account"))
    resident_posting = next(p for p in postings if p.account.kind == Account.Kind.RESIDENT)
    system_posting = next(p for p in postings if p.account.kind != Account.Kind.RESIDENT)
    return _move(
        resident=resident_posting.account.owner,
        amount=-resident_posting.amount,
        cause=cause,
        kind=LedgerTransaction.Kind.REVERSAL,
        memo=memo_columns(memo, None),
        system_kind=system_posting.account.kind,
        reverses_id=original.id,
    )
