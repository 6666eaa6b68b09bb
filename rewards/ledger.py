"""The points ledger: append-only, double-entry, exactly once per cause.

Every function here is safe to call twice with the same cause: the transaction row's unique
idempotency key is inserted first, in the same database transaction as the postings and the balance
change, so a second call (or a concurrent one, which waits on the first's key) finds the first result.
Callers may wrap these in their own `transaction.atomic()` to commit other rows with the postings.
"""

from dataclasses import dataclass

from django.db import connection, transaction

from .errors import InsufficientPoints, InvalidAmount
from .models import Account, LedgerTransaction


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
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO rewards_account (kind, owner_id, balance, created_at) VALUES ('resident', %s, 0, now()) "
            "ON CONFLICT (owner_id) DO NOTHING RETURNING id",
            [resident.pk],
        )
        row = cursor.fetchone()
        if row:
            return row[0]
        cursor.execute("SELECT id FROM rewards_account WHERE owner_id = %s", [resident.pk])
        return cursor.fetchone()[0]


def _claim_key(cursor, key: str, kind: str, memo: str, reverses_id: int | None) -> int | None:
    cursor.execute(
        "INSERT INTO rewards_ledgertransaction (idempotency_key, kind, memo, reverses_id, created_at) "
        "VALUES (%s, %s, %s, %s, now()) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        [key, kind, memo[:200], reverses_id],
    )
    row = cursor.fetchone()
    return row[0] if row else None


def _existing(cursor, key: str, resident_account: int) -> LedgerResult:
    cursor.execute(
        "SELECT t.id, a.balance FROM rewards_ledgertransaction t, rewards_account a "
        "WHERE t.idempotency_key = %s AND a.id = %s",
        [key, resident_account],
    )
    transaction_id, balance = cursor.fetchone()
    return LedgerResult(transaction_id, balance, created=False)


def _move(
    *,
    resident,
    amount: int,
    cause: str,
    kind: str,
    memo: str,
    system_kind: str,
    reverses_id: int | None = None,
) -> LedgerResult:
    """Post `amount` to the resident (negative: from the resident) against one system account."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise InvalidAmount()
    with transaction.atomic(), connection.cursor() as cursor:
        account_id = resident_account_id(resident)
        transaction_id = _claim_key(cursor, cause, kind, memo, reverses_id)
        if transaction_id is None:
            return _existing(cursor, cause, account_id)
        # The conditional update is the overspend guard; the CHECK constraint is the backstop.
        cursor.execute(
            "UPDATE rewards_account SET balance = balance + %s WHERE id = %s AND balance + %s >= 0 RETURNING balance",
            [amount, account_id, amount],
        )
        row = cursor.fetchone()
        if row is None:
            raise InsufficientPoints()
        # The system account is found inside the statement: no extra round trip, no cached id.
        cursor.execute(
            "INSERT INTO rewards_posting (transaction_id, account_id, amount, created_at) "
            "VALUES (%s, %s, %s, now()), "
            "(%s, (SELECT id FROM rewards_account WHERE kind = %s AND owner_id IS NULL), %s, now())",
            [transaction_id, account_id, amount, transaction_id, system_kind, -amount],
        )
        return LedgerResult(transaction_id, row[0], created=True)


def credit(*, resident, amount: int, cause: str, kind: str, memo: str = "") -> LedgerResult:
    """Issue points to a resident for a cause such as `deposit:<uuid>` or `drop:<id>`."""
    if amount <= 0:
        raise InvalidAmount()
    return _move(
        resident=resident, amount=amount, cause=cause, kind=kind, memo=memo, system_kind=Account.Kind.ISSUANCE
    )


def debit(
    *, resident, amount: int, cause: str, kind: str = LedgerTransaction.Kind.REDEEM, memo: str = ""
) -> LedgerResult:
    """Spend a resident's points (a redemption); InsufficientPoints leaves everything unchanged."""
    if amount <= 0:
        raise InvalidAmount()
    system_kind = Account.Kind.EXPIRY if kind == LedgerTransaction.Kind.EXPIRY else Account.Kind.REDEMPTION
    return _move(
        resident=resident, amount=-amount, cause=cause, kind=kind, memo=memo, system_kind=system_kind
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
        memo=memo,
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
        memo=memo,
        system_kind=system_posting.account.kind,
        reverses_id=original.id,
    )
