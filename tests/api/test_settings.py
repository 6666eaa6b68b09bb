"""Production start-up refuses missing or weak keys, and a strong configuration passes `check --deploy`."""

import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from benchmarks.common import KEY_NAMES, strong_keys

ROOT = Path(__file__).resolve().parents[2]


def _server_database_url() -> str:
    """The maintenance database of the suite's server: it always exists, unlike the suite's own name."""
    url = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres")
    return urlunsplit(url._replace(path="/postgres"))


def production_env(**overrides) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "backend.settings",
        "DEBUG": "0",
        "DATABASE_URL": _server_database_url(),
        "ALLOWED_HOSTS": "example.org",
        **strong_keys(),
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (fixed interpreter and arguments)
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def start_django(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_python(env, "-c", "import django; django.setup()")


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SIGNING_KEY", "KIOSK_MASTER_KEY", "CODE_KEYS_RESIDENT"])
def test_a_missing_key_stops_start_up_and_names_the_key(name):
    result = start_django(production_env(**{name: None}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr
    assert "missing" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("SECRET_KEY", "short-secret", "shorter than"),
        ("SECRET_KEY", "ab" * 40, "low-entropy"),
        ("JWT_SIGNING_KEY", "greenloop-insecure-development-key-" + "x1y2z3" * 5, "development"),
        ("KIOSK_MASTER_KEY", "django-insecure-" + "k3Y9" * 10, "development"),
        ("CODE_KEYS_BIN", "tooshort", "shorter than"),
        ("CODE_KEYS_VOUCHER", secrets.token_urlsafe(48) + ",weak", "entry 1"),
    ],
)
def test_a_weak_key_stops_start_up_with_a_clear_reason(name, value, reason):
    result = start_django(production_env(**{name: value}))

    assert result.returncode != 0
    assert name in result.stderr
    assert reason in result.stderr


def test_missing_allowed_hosts_stops_start_up():
    result = start_django(production_env(ALLOWED_HOSTS=None))

    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_strong_keys_start_and_pass_the_deployment_check_without_warnings():
    result = run_python(production_env(), "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stderr + result.stdout


def test_key_lists_keep_every_key_newest_first():
    first, second = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    env = production_env(CODE_KEYS_BIN=f" {first} , {second} ")

    result = run_python(
        env,
        "-c",
        "import django; django.setup(); from django.conf import settings; print(settings.CODE_KEYS['bin'])",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr([first, second])


def test_debug_mode_runs_with_development_keys():
    env = production_env(DEBUG="1", **dict.fromkeys(KEY_NAMES))
    env.pop("ALLOWED_HOSTS")

    result = run_python(
        env, "-c", "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize("name", ["DEBUG", "DATABASE_POOL"])
def test_a_yes_no_variable_that_is_neither_stops_start_up_and_names_it(name):
    result = start_django(production_env(**{name: "ture"}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name}='ture'" in result.stderr


def test_the_channel_layers_redis_connections_have_no_socket_timeout():
    """redis-py 8 reads with a 5 s socket timeout by default, the same 5 s channels-redis blocks waiting
    for socket messages, so an idle socket's read timed out and the socket was dropped. The pool the
    production settings build must carry no socket timeout (connecting still has one)."""
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "from channels_redis.utils import create_pool; "
        "layer = settings.CHANNEL_LAYERS['default']; "
        "pool = create_pool(layer['CONFIG']['hosts'][0]); "
        "print(layer['BACKEND']); "
        "print(repr(pool.connection_kwargs['socket_timeout'])); "
        "print(repr(pool.connection_kwargs['socket_connect_timeout']))"
    )

    result = run_python(production_env(REDIS_URL="redis://127.0.0.1:6379/7"), "-c", script)

    assert result.returncode == 0, result.stderr
    backend, socket_timeout, connect_timeout = result.stdout.split()
    assert backend == "channels_redis.core.RedisChannelLayer"
    assert socket_timeout == "None"
    assert float(connect_timeout) > 0


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("ASYNC_DATABASE_POOL_MAX", "0", "is below its minimum of 1"),
        ("ASYNC_DATABASE_POOL_TIMEOUT", "0", "is below its minimum of 0.1"),
        ("ASYNC_DATABASE_POOL_TIMEOUT", "nan", "is below its minimum of 0.1"),
        ("API_MAX_BODY_BYTES", "8MB", "is not a whole number"),
        ("STATS_MIN_CELL_HOUSEHOLDS", "0", "is below its minimum of 1"),
        ("DEPOSIT_CLOCK_TOLERANCE_SECONDS", "-5", "is below its minimum of 1"),
        ("PICKUP_TOLERANCE", "five percent", "is not a number"),
    ],
)
def test_a_number_variable_out_of_bounds_stops_start_up_and_names_it(name, value, reason):
    result = start_django(production_env(**{name: value}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name}={value!r} {reason}" in result.stderr


def test_a_pool_smaller_than_its_own_minimum_stops_start_up():
    result = start_django(production_env(DATABASE_POOL="1", DATABASE_POOL_MIN="4", DATABASE_POOL_MAX="2"))

    assert result.returncode != 0
    assert "DATABASE_POOL_MAX='2' is below its minimum of 4" in result.stderr


def test_number_variables_at_their_bounds_start():
    bounds = {
        "ASYNC_DATABASE_POOL_MAX": "1",
        "ASYNC_DATABASE_POOL_TIMEOUT": "0.1",
        "DEPOSIT_MERGE_WINDOW_MINUTES": "0",
        "BACKDATED_POINTS_PER_UPLOAD": "0",
        "PICKUP_TOLERANCE": "0",
    }
    result = run_python(
        production_env(**bounds),
        "-c",
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.ASYNC_DATABASE_POOL_MAX, s.ASYNC_DATABASE_POOL_TIMEOUT, s.DEPOSIT_MERGE_WINDOW_MINUTES)",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "0.1", "0"]
