"""What every benchmark needs: the strong keys production settings insist on, and a database made afresh."""

import secrets
from urllib.parse import urlsplit, urlunsplit

# The keys production settings refuse to start without (each its own random value here).
KEY_NAMES = (
    "SECRET_KEY",
    "JWT_SIGNING_KEY",
    "KIOSK_MASTER_KEY",
    "CODE_KEYS_BIN",
    "CODE_KEYS_KIOSK_SESSION",
    "CODE_KEYS_RESIDENT",
    "CODE_KEYS_VOUCHER",
)


def strong_keys() -> dict[str, str]:
    return {name: secrets.token_urlsafe(48) for name in KEY_NAMES}


def operator_env(allowed_hosts: str) -> dict[str, str]:
    """What production settings need to start as an operator runs them: DEBUG off, the host names,
    fresh strong keys. Plain HTTP on loopback: in production the proxy in front terminates TLS."""
    return {"DEBUG": "0", "ALLOWED_HOSTS": allowed_hosts, "SECURE_SSL_REDIRECT": "0"} | strong_keys()


def recreate_database(url: str, admin_url: str | None = None) -> None:
    """Drop the database `url` names and create it empty, through `admin_url` (default: the same
    server's `postgres` database)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(admin_url or urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
