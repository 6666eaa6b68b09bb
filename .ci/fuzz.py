"""CI fuzz stage: schemathesis against the served OpenAPI schema, in production mode, as four clients.

A resident, a district officer and a city officer (Bearer tokens) and a kiosk that signs every request
send generated requests to every operation. The stage fails on any 5xx, on any status the schema does
not declare, and on any body or content type that does not match the schema; it also fails when fewer
than FUZZ_MIN_REQUESTS requests were sent, so a broken generator cannot pass by sending nothing.

    FUZZ_DATABASE_URL=postgres://postgres@127.0.0.1:5432/greenloop_ci_fuzz \
    FUZZ_REDIS_URL=redis://127.0.0.1:6379/15 FUZZ_PORT=8766 .venv/bin/python .ci/fuzz.py

The database named by FUZZ_DATABASE_URL is dropped and created afresh.
"""

import os
import secrets
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def production_env() -> dict[str, str]:
    key = lambda: secrets.token_urlsafe(48)  # noqa: E731
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.settings",
        "DEBUG": "0",
        "DATABASE_URL": os.environ["FUZZ_DATABASE_URL"],
        "REDIS_URL": os.environ.get("FUZZ_REDIS_URL", ""),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        # 4xx answers are the expected refusals; only errors are worth printing.
        "LOG_LEVEL": "ERROR",
        "MEDIA_ROOT": os.environ.get("FUZZ_MEDIA_ROOT") or tempfile.mkdtemp(prefix="greenloop-fuzz-media-"),
        "SECRET_KEY": key() + key(),
        "JWT_SIGNING_KEY": key(),
        "KIOSK_MASTER_KEY": key(),
    }
    for name in ("BIN", "KIOSK_SESSION", "RESIDENT", "VOUCHER"):
        env[f"CODE_KEYS_{name}"] = key()
    return env


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed():
    """The demo city (staff, residents, bins, kiosks, rewards) and the four clients' credentials."""
    import django

    django.setup()
    from accounts.models import Role, User
    from demo.data import load_demo
    from geo.models import Community
    from kiosks.services import provision_kiosk

    load_demo()
    resident = User.objects.filter(role=Role.RESIDENT, household__isnull=False).order_by("id").first()
    district_officer = User.objects.filter(role=Role.DISTRICT_OFFICER).order_by("id").first()
    city_officer = User.objects.filter(role=Role.CITY_OFFICER).order_by("id").first()
    community = Community.objects.filter(district=district_officer.district).order_by("id").first()
    kiosk, secret = provision_kiosk(
        actor=district_officer,
        community=community,
        name="fuzz kiosk",
        material_codes=["paper", "plastic", "metal"],
    )
    return {
        "resident": resident,
        "district_officer": district_officer,
        "city_officer": city_officer,
    }, (kiosk.pk, secret)


def bearer(user) -> str:
    from rest_framework_simplejwt.tokens import RefreshToken

    return f"Bearer {RefreshToken.for_user(user).access_token}"


def start_server(env: dict, port: int, log) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603 (fixed arguments)
        [
            sys.executable,
            "-m",
            "uvicorn",
            "backend.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--lifespan",
            "off",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        # Thousands of expected 4xx lines would bury the report; the log is shown when something fails.
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz/ready", timeout=2).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit("the fuzz server never became ready")


class Sender:
    def __init__(self, base: str, people: dict, kiosk: tuple[int, str]):
        import requests

        self.base = base
        self.people = people
        self.kiosk_id, self.kiosk_secret = kiosk
        self.session = requests.Session()
        self.tokens: dict[str, tuple[float, str]] = {}
        self.sent = 0
        self.statuses: Counter = Counter()
        self.failures: list[str] = []

    def _authorization(self, who: str) -> str:
        minted, token = self.tokens.get(who, (0.0, ""))
        # Access tokens live 15 minutes; a long run mints fresh ones.
        if time.monotonic() - minted > 300:
            token = bearer(self.people[who])
            self.tokens[who] = (time.monotonic(), token)
        return token

    def send(self, case, who: str):
        import requests

        from kiosks.credentials import sign

        kwargs = case.as_transport_kwargs(base_url=self.base)
        request = requests.Request(
            method=kwargs["method"],
            url=kwargs["url"],
            headers=kwargs.get("headers") or {},
            params=kwargs.get("params"),
            json=kwargs.get("json"),
            data=kwargs.get("data"),
            files=kwargs.get("files"),
            cookies=kwargs.get("cookies"),
        )
        prepared = self.session.prepare_request(request)
        if who == "kiosk":
            body = prepared.body or b""
            body = body.encode() if isinstance(body, str) else body
            timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
            signature = sign(self.kiosk_secret, prepared.method, prepared.path_url, timestamp, nonce, body)
            prepared.headers.update(
                {
                    "Authorization": f"Kiosk {self.kiosk_id}:{signature}",
                    "X-Timestamp": timestamp,
                    "X-Nonce": nonce,
                }
            )
        else:
            prepared.headers["Authorization"] = self._authorization(who)
        response = self.session.send(prepared, timeout=30)
        self.sent += 1
        self.statuses[f"{who} {response.status_code}"] += 1
        return response


def fuzz_operation(operation, who: str, sender: "Sender", checks: list, examples: int) -> None:
    from hypothesis import HealthCheck, Phase, given, settings

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        try:
            response = sender.send(case, who)
            case.validate_response(response, checks=checks)
        except (Exception, BaseExceptionGroup) as exc:  # every failure is collected, reported together
            sender.failures.append(
                f"{operation.method.upper()} {operation.path} as {who}: "
                + "".join(traceback.format_exception_only(exc))[:1500]
                + f"\n  request: {case.as_curl_command()}"
            )

    fuzz()


def main() -> int:
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    port = int(os.environ.get("FUZZ_PORT", "8766"))
    examples = int(os.environ.get("FUZZ_EXAMPLES", "14"))
    minimum = int(os.environ.get("FUZZ_MIN_REQUESTS", "2000"))
    env = production_env()
    recreate_database(env["DATABASE_URL"])
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    os.environ.update(env)
    people, kiosk = seed()
    server_log = tempfile.NamedTemporaryFile(
        "w+", prefix="greenloop-fuzz-server-", suffix=".log", delete=False
    )
    server = start_server(env, port, server_log)
    base = f"http://127.0.0.1:{port}"
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    sender = Sender(base, people, kiosk)
    try:
        schema = schemathesis.openapi.from_url(f"{base}/api/schema/")
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in operations:
            kiosk_operation = operation.path.startswith("/api/v1/kiosk/")
            clients = ["kiosk"] if kiosk_operation else list(people)
            for who in clients:
                fuzz_operation(operation, who, sender, checks, examples * (3 if kiosk_operation else 1))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"fuzz: {len(operations)} operations, {sender.sent} requests")
    print(
        "fuzz: answers by client and status:",
        ", ".join(f"{k}: {v}" for k, v in sorted(sender.statuses.items())),
    )
    unique = list(dict.fromkeys(sender.failures))
    for failure in unique[:50]:
        print("FAIL", failure)
    if unique:
        server_log.seek(0)
        errors = [
            line for line in server_log if "Error" in line or "Traceback" in line or line.startswith("  ")
        ]
        print("fuzz: server errors:\n" + "".join(errors[-200:]))
        print(f"fuzz: {len(unique)} distinct failures (server log: {server_log.name})")
        return 1
    if sender.sent < minimum:
        print(f"fuzz: only {sender.sent} requests, fewer than {minimum}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
