import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, InternalError, connection, transaction

from rewards import services
from rewards.errors import InsufficientPoints, InvalidAmount
from rewards.models import Account, LedgerTransaction, Posting
from tests.concurrency import run_in_threads
from tests.factories import ResidentFactory

from .helpers import assert_ledger_consistent


def test_credit_posts_a_balanced_transaction_and_raises_the_balance(resident):
    result = services.credit(resident=resident, amount=30, cause="drop:1", kind="sorting")

    assert result.created and result.balance == 30
    postings = Posting.objects.filter(transaction_id=result.transaction_id)
    assert sorted(p.amount for p in postings) == [-30, 30]
    assert Account.objects.get(owner=resident).balance == 30
    assert_ledger_consistent()


def test_the_same_cause_credits_once(resident):
    first = services.credit(resident=resident, amount=30, cause="deposit:k:1", kind="deposit")
    second = services.credit(resident=resident, amount=30, cause="deposit:k:1", kind="deposit")

    assert second.created is False
    assert second.transaction_id == first.transaction_id
    assert second.balance == 30
    assert LedgerTransaction.objects.filter(idempotency_key="deposit:k:1").count() == 1


def test_debit_beyond_the_balance_is_refused_and_changes_nothing(resident):
    services.credit(resident=resident, amount=50, cause="grant", kind="adjustment")

    with pytest.raises(InsufficientPoints):
        services.debit(resident=resident, amount=51, cause="redeem:x")

    assert Account.objects.get(owner=resident).balance == 50
    assert not LedgerTransaction.objects.filter(idempotency_key="redeem:x").exists()


@pytest.mark.parametrize("amount", [0, -5, 2.5, True])
def test_amounts_must_be_positive_whole_points(resident, amount):
    with pytest.raises(InvalidAmount):
        services.credit(resident=resident, amount=amount, cause="c", kind="adjustment")
    assert not LedgerTransaction.objects.exists()


def test_reverse_posts_the_exact_opposite_once(resident):
    services.credit(resident=resident, amount=40, cause="drop:9", kind="sorting")
    first = services.reverse(original_cause="drop:9", cause="reverse:drop:9")
    again = services.reverse(original_cause="drop:9", cause="reverse:drop:9")

    assert first.balance == 0 and again.created is False
    reversal = LedgerTransaction.objects.get(idempotency_key="reverse:drop:9")
    assert reversal.reverses.idempotency_key == "drop:9"
    assert_ledger_consistent()


def test_postings_and_transactions_cannot_be_updated_or_deleted(resident):
    result = services.credit(resident=resident, amount=10, cause="c1", kind="adjustment")
    posting = Posting.objects.filter(transaction_id=result.transaction_id).first()

    for statement, row_id in (
        ("UPDATE rewards_posting SET amount = 1000 WHERE id = %s", posting.id),
        ("DELETE FROM rewards_posting WHERE id = %s", posting.id),
        ("UPDATE rewards_ledgertransaction SET memo = 'x' WHERE id = %s", result.transaction_id),
        ("DELETE FROM rewards_ledgertransaction WHERE id = %s", result.transaction_id),
    ):
        with (
            pytest.raises((IntegrityError, InternalError)),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [row_id])
    assert Posting.objects.get(id=posting.id).amount == posting.amount


@pytest.mark.django_db(transaction=True)
def test_an_unbalanced_transaction_cannot_commit():
    resident = ResidentFactory()
    account = Account.objects.create(kind="resident", owner=resident)

    with pytest.raises(IntegrityError), transaction.atomic():
        tx = LedgerTransaction.objects.create(idempotency_key="forged", kind="adjustment")
        Posting.objects.create(transaction=tx, account=account, amount=1_000_000)

    assert not LedgerTransaction.objects.filter(idempotency_key="forged").exists()


def test_a_resident_balance_cannot_go_negative_even_by_hand(resident):
    account = Account.objects.create(kind="resident", owner=resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=-1)


@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_credits_for_one_cause_make_one_transaction():
    resident = ResidentFactory()

    results = run_in_threads(
        lambda _: services.credit(resident=resident, amount=25, cause="deposit:kiosk-1:same", kind="deposit"),
        16,
    )

    assert all(not isinstance(r, Exception) for r in results), results
    assert sum(r.created for r in results) == 1
    assert LedgerTransaction.objects.filter(idempotency_key="deposit:kiosk-1:same").count() == 1
    assert Account.objects.get(owner=resident).balance == 25
    assert_ledger_consistent()


def test_verify_ledger_command_passes_on_a_sound_ledger_and_fails_on_a_broken_one(resident, capsys):
    services.credit(resident=resident, amount=10, cause="c1", kind="adjustment")
    call_command("verify_ledger")
    assert "ledger OK" in capsys.readouterr().out

    # Bypass the conditional update: the balance column now disagrees with the postings.
    Account.objects.filter(owner=resident).update(balance=999)
    with pytest.raises(CommandError):
        call_command("verify_ledger")
