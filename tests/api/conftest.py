from tests.accounts.conftest import throttle_rates, xuchang  # noqa: F401  (shared fixtures)
