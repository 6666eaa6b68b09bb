from rewards import services
from rewards.verification import find_violations


def give_points(resident, amount, cause=None):
    return services.credit(
        resident=resident,
        amount=amount,
        cause=cause or f"test-grant:{resident.pk}:{amount}",
        kind="adjustment",
    )


def assert_ledger_consistent():
    assert find_violations() == []
