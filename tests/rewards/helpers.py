from django.test import override_settings

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


def rules_now(city_id, **fields):
    """A version of the city's rules in force at once. In production a version starts only once every
    process can hold it (POINT_RULES_PROPAGATION_SECONDS); a test is one process that just wrote it."""
    with override_settings(POINT_RULES_PROPAGATION_SECONDS=0):
        return services.add_point_rules_version(city_id=city_id, **fields)


def first_rules(city_id, **fields):
    """The city's first version, in force since the epoch: for tests of days long past."""
    from rewards.models import PointRules, rules_epoch
    from rewards.selectors import reference_prices

    return PointRules.objects.create(
        city_id=city_id,
        version=1,
        effective_from=rules_epoch(),
        material_prices=reference_prices(city_id),
        **fields,
    )
