"""Deposit throughput benchmark: prints req/s, p50 and p99 of signed deposits, and two references
measured in the same run on the same database: pgbench running the SQL one deposit sends, and a plain
Django JSON view under the same server.

    .venv/bin/python -m benchmarks.deposits.run [--duration 20] [--connections 32] [--workers 2] [--json]

It also reports the server's and PostgreSQL's CPU per deposit (from /proc of the server processes and
of this database's backends), commits per deposit (pg_stat_database.xact_commit) and statements per
deposit (counted in-process over a few signed deposits through the same URL and settings).

`--server granian-wsgi` or `granian-asgi` serves the API under granian instead of uvicorn (`pip install
granian`; not a dependency of GreenLoop). Needs wrk and pgbench (`apt-get install wrk postgresql-client`) and a PostgreSQL server
(`--database-url`, default the local one; the database named there is dropped and created afresh).
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlparse

from benchmarks.common import operator_env, recreate_database

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


# What each server the API can be measured under adds to the common host, port and worker options.
SERVERS = {
    "uvicorn": (["uvicorn", "backend.asgi:application"], ["--no-access-log", "--lifespan", "off"]),
    "granian-asgi": (
        ["granian", "--interface", "asgi"],
        ["--no-ws", "--log-level", "warning", "backend.asgi:application"],
    ),
    # A sync server runs each request on one of its threads; 16 per worker covers 32 connections.
    "granian-wsgi": (
        ["granian", "--interface", "wsgi"],
        ["--blocking-threads", "16", "--log-level", "warning", "backend.wsgi:application"],
    ),
}


def server_command(server: str, host: str, port: int, workers: int) -> list[str]:
    head, tail = SERVERS[server]
    return [*head, "--host", host, "--port", str(port), "--workers", str(workers), *tail]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/greenloop_bench")
    parser.add_argument("--duration", type=int, default=20, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument(
        "--server",
        choices=sorted(SERVERS),
        default="uvicorn",
        help="what serves the API: uvicorn (as shipped) or granian (pip install granian) over ASGI or WSGI",
    )
    parser.add_argument("--kiosks", type=int, default=32)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser.parse_args()


def production_env(database_url: str) -> dict:
    env = {
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "benchmarks.deposits.settings",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_LOGIN": "100000/min",
        # Under ASGI every concurrent request runs in its own thread, so persistent per-thread
        # connections would pile up past max_connections: production uses psycopg's pool instead.
        "DATABASE_POOL": "1",
        "DATABASE_POOL_MAX": "16",
    }
    return env | operator_env("127.0.0.1,localhost")


def prepare(kiosk_count: int) -> dict:
    """Migrate, then make one community with `kiosk_count` kiosks, each with a claimed session."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.test import override_settings

    from accounts.models import Household, Role, User
    from geo.models import Community, District
    from kiosks.credentials import derive_secret
    from kiosks.models import Kiosk, KioskSession
    from rewards.models import Material
    from rewards.services import add_point_rules_version

    district = District.objects.get(slug="weidu")
    # No server runs yet, so no process holds the old rules: the version may start at once.
    with override_settings(POINT_RULES_PROPAGATION_SECONDS=0):
        add_point_rules_version(
            city_id=district.city_id,
            resident_daily_deposit_points_cap=10**9,
            kiosk_daily_points_cap=10**9,
            household_daily_points_cap=10**9,
        )
    community = Community.objects.create(district=district, name="压测社区")
    materials = list(Material.objects.filter(code__in=["paper", "plastic", "metal"]))
    kiosks = []
    for n in range(kiosk_count):
        household = Household.objects.create(community=community, address=f"{n}号")
        resident = User.objects.create_user(
            f"+86137{n:08d}",
            "unused-password-42",
            display_name=f"压测{n}",
            role=Role.RESIDENT,
            household=household,
        )
        kiosk = Kiosk.objects.create(community=community, name=f"压测机{n}")
        kiosk.materials.set(materials)
        session = KioskSession.objects.create(
            kiosk=kiosk, status="claimed", resident=resident, expires_at=time_in(120), claimed_at=time_in(0)
        )
        kiosks.append(
            {
                "id": kiosk.pk,
                "secret": derive_secret(kiosk.pk, 1),
                "session": str(session.pk),
                "resident": resident.pk,
            }
        )
    return {"kiosks": kiosks}


def time_in(seconds: int):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(seconds=seconds)


def write_requests(folder: Path, kiosks: list[dict], per_thread: int, threads: int) -> None:
    """Pre-sign unique deposits (valid for the 300 s signature window) so the load tool only sends."""
    from datetime import UTC, datetime

    from kiosks.credentials import sign

    occurred_at = datetime.now(UTC).isoformat()
    for thread in range(threads):
        lines = []
        for n in range(per_thread):
            kiosk = kiosks[(thread * per_thread + n) % len(kiosks)]
            body = json.dumps(
                {
                    "deposit_id": str(uuid.uuid4()),
                    "session_id": kiosk["session"],
                    "material": "plastic",
                    "weight_g": 1500 + n % 1000,
                    "occurred_at": occurred_at,
                }
            )
            timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
            signature = sign(
                kiosk["secret"], "POST", "/api/v1/kiosk/deposits", timestamp, nonce, body.encode()
            )
            lines.append(f"Kiosk {kiosk['id']}:{signature}\t{timestamp}\t{nonce}\t{body}")
        (folder / f"requests_{thread}.txt").write_text("\n".join(lines) + "\n")


def wait_until_up(url: str, seconds: int = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not come up")


def wrk(url: str, args, script: list[str] | None = None, duration: int | None = None) -> dict:
    """`script`: a Lua file and its arguments (wrk takes them after the URL, past `--`)."""
    lua = ["-s", script[0], url, "--", *script[1:]] if script else [url]
    seconds = args.duration if duration is None else duration
    command = ["wrk", "-t2", f"-c{args.connections}", f"-d{seconds}s", "--latency", *lua]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for pct in ("50", "99"):
        match = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", output)
        value, unit = float(match.group(1)), match.group(2)
        figures[f"p{pct}_ms"] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    created = re.search(r"CREATED (\d+) OTHER (\d+)", output)
    if created:
        figures["created"], figures["other"] = int(created.group(1)), int(created.group(2))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non_2xx"] = int(errors.group(1)) if errors else 0
    return figures


WARM_UP_SECONDS = 3
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _cpu_ms(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * TICK_MS


def _tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                queue.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                pass
    return pids


def _backends(conn, name: str) -> list[int]:
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name]
    ).fetchall()
    return [row[0] for row in rows]


class Meter:
    """CPU of the server's process tree and of this database's backends, and its commits, over a phase.

    Backends are sampled at the end too, so a pooled connection opened mid-phase still counts."""

    def __init__(self, database_url: str, server_pid: int):
        import psycopg

        self.name = urlparse(database_url).path.lstrip("/")
        self.conn = psycopg.connect(database_url, autocommit=True)
        self.server_pid = server_pid

    def _commits(self) -> int:
        return self.conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", [self.name]
        ).fetchone()[0]

    def __enter__(self):
        self.server = {pid: _cpu_ms(pid) for pid in _tree(self.server_pid)}
        self.pg = {pid: _cpu_ms(pid) for pid in _backends(self.conn, self.name)}
        self.commits = self._commits()
        return self

    def __exit__(self, *exc):
        self.server_ms = sum(_cpu_ms(pid) - self.server.get(pid, 0.0) for pid in _tree(self.server_pid))
        self.pg_ms = sum(_cpu_ms(pid) - self.pg.get(pid, 0.0) for pid in _backends(self.conn, self.name))
        # Our own two readings of xact_commit are transactions too.
        self.commit_count = self._commits() - self.commits - 1
        self.conn.close()


def _signed_deposit(kiosk: dict) -> tuple[bytes, dict]:
    from datetime import UTC, datetime

    from kiosks.credentials import sign

    body = json.dumps(
        {
            "deposit_id": str(uuid.uuid4()),
            "session_id": kiosk["session"],
            "material": "plastic",
            "weight_g": 1500,
            "occurred_at": datetime.now(UTC).isoformat(),
        }
    ).encode()
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    signature = sign(kiosk["secret"], "POST", "/api/v1/kiosk/deposits", timestamp, nonce, body)
    headers = {
        "authorization": f"Kiosk {kiosk['id']}:{signature}",
        "x-timestamp": timestamp,
        "x-nonce": nonce,
    }
    return body, headers


def count_statements(kiosks: list[dict], samples: int = 20) -> dict:
    """Statements one signed deposit sends through Django's view, counted in-process (a WSGI server)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    statements = 0
    for _ in range(samples):
        body, headers = _signed_deposit(kiosks[0])
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                "/api/v1/kiosk/deposits",
                body,
                content_type="application/json",
                **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
            )
        if response.status_code != 201:
            raise SystemExit(
                f"statement count: deposit answered {response.status_code}: {response.content!r}"
            )
        statements += len(captured.captured_queries)
    connection.close()
    return {"statements_per_deposit": statements / samples}


def count_edge_statements(kiosks: list[dict], samples: int = 20) -> dict:
    """Statements one signed deposit sends on the ASGI servers' path (api/deposit_edge.py), counted
    in-process on the ASGI application with a cursor that counts what the edge's pool executes.
    The first deposit warms the process's caches through Django, as a server's first one does; every
    sample after it must be the edge's own, or the count would be of another path."""
    import asyncio

    from psycopg import AsyncCursor

    from backend import async_database
    from backend.asgi import application

    executed = 0

    class CountingCursor(AsyncCursor):
        async def execute(self, *args, **kwargs):
            nonlocal executed
            executed += 1
            return await super().execute(*args, **kwargs)

    params = async_database.connection_params
    async_database.connection_params = lambda: {**params(), "cursor_factory": CountingCursor}

    async def post() -> int:
        body, headers = _signed_deposit(kiosks[0])
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/v1/kiosk/deposits",
            "raw_path": b"/api/v1/kiosk/deposits",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *((name.encode(), value.encode()) for name, value in headers.items()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        answer = {}

        async def receive():
            if messages:
                return messages.pop(0)
            # The client stays connected: Django abandons a request whose client has gone.
            await asyncio.Event().wait()

        async def send(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]

        await application(scope, receive, send)
        return answer["status"]

    async def run() -> float:
        nonlocal executed
        try:
            if await post() != 201:
                raise SystemExit("statement count: the warm-up deposit was refused")
            executed = 0
            for _ in range(samples):
                before = executed
                if await post() != 201 or executed == before:
                    raise SystemExit("statement count: a deposit was not recorded on the edge")
            return executed / samples
        finally:
            await async_database.close()
            async_database.connection_params = params

    return {"statements_per_deposit": asyncio.run(run())}


def pgbench(args, prepared: dict, database_url: str, script: str = "deposit.pgbench.sql") -> dict:
    offset = prepared["kiosks"][0]["resident"] - prepared["kiosks"][0]["id"]
    parsed = urlparse(database_url)
    command = [
        "pgbench",
        "-n",
        "-c",
        str(args.connections),
        "-j",
        "2",
        "-T",
        str(args.duration),
        "-D",
        f"kiosks={len(prepared['kiosks'])}",
        "-D",
        f"resident_offset={offset}",
        "-f",
        str(HERE / script),
        "-h",
        parsed.hostname or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        parsed.path.lstrip("/"),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    tps = float(re.search(r"tps = ([\d.]+)", output).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", output).group(1))
    return {"tps": tps, "latency_avg_ms": latency}


def port_free(port: int) -> None:
    """Refuse to start beside a server still holding the port: its figures would be measured instead."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise SystemExit(f"port {port} is in use: stop what holds it or pass --port") from None


def main() -> int:
    args = parse_args()
    for tool in ("wrk", "pgbench"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is required: apt-get install wrk postgresql-client")
    env = production_env(args.database_url)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    recreate_database(args.database_url)
    prepared = prepare(args.kiosks)
    # Enough unique deposits for twice the fastest plausible rate, so none repeats.
    per_thread = max(2000, 1500 * args.duration)
    base = f"http://127.0.0.1:{args.port}"
    port_free(args.port)
    # Its own process group, so its workers go with it even when the server ignores SIGTERM.
    server = subprocess.Popen(
        [sys.executable, "-m", *server_command(args.server, "127.0.0.1", args.port, args.workers)],
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,
    )
    try:
        wait_until_up(f"{base}/healthz")
        plain = wrk(f"{base}/bench/plain", args)
        with tempfile.TemporaryDirectory() as warm_up, tempfile.TemporaryDirectory() as folder:
            # As a server that has run for a while: every worker has its pool open and every kiosk's
            # row and the city's rules cached. Those deposits are neither timed nor metered.
            write_requests(Path(warm_up), prepared["kiosks"], 1500 * WARM_UP_SECONDS, threads=2)
            wrk(base, args, [str(HERE / "deposit.lua"), warm_up], duration=WARM_UP_SECONDS)
            write_requests(Path(folder), prepared["kiosks"], per_thread, threads=2)
            with Meter(args.database_url, server.pid) as meter:
                deposits = wrk(base, args, [str(HERE / "deposit.lua"), folder])
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
    done = max(deposits.get("created", 0) + deposits.get("other", 0), 1)
    per_deposit = {
        "server_cpu_ms_per_deposit": meter.server_ms / done,
        "pg_cpu_ms_per_deposit": meter.pg_ms / done,
        "commits_per_deposit": meter.commit_count / done,
    }
    asgi = args.server != "granian-wsgi"
    per_deposit.update((count_edge_statements if asgi else count_statements)(prepared["kiosks"]))
    reference = pgbench(args, prepared, args.database_url)
    minimal = pgbench(args, prepared, args.database_url, "minimal.pgbench.sql")

    from django.db import connection

    from rewards.verification import find_violations

    connection.close()
    violations = find_violations()
    figures = {
        "connections": args.connections,
        "duration_s": args.duration,
        "workers": args.workers,
        "server": args.server,
        "deposit_rps": deposits["rps"],
        "deposit_p50_ms": deposits["p50_ms"],
        "deposit_p99_ms": deposits["p99_ms"],
        "deposits_created": deposits.get("created", 0),
        "deposits_other": deposits.get("other", 0),
        "plain_rps": plain["rps"],
        "plain_p99_ms": plain["p99_ms"],
        "pgbench_deposit_sql_tps": reference["tps"],
        "pgbench_minimal_tps": minimal["tps"],
        "deposit_to_minimal_ratio": deposits["rps"] / minimal["tps"],
        **per_deposit,
        "ledger_violations": len(violations),
    }
    ok = not violations and deposits.get("other", 0) == 0
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0 if ok else 1
    print(
        f"\nDeposits benchmark: {args.connections} connections, {args.duration} s each, "
        f"{args.workers} {args.server} workers, {os.cpu_count()} CPUs"
    )
    print(
        f"  plain Django JSON view : {plain['rps']:8.0f} req/s   p50 {plain['p50_ms']:6.2f} ms   "
        f"p99 {plain['p99_ms']:6.2f} ms"
    )
    print(
        f"  signed deposits        : {deposits['rps']:8.0f} req/s   p50 {deposits['p50_ms']:6.2f} ms   "
        f"p99 {deposits['p99_ms']:6.2f} ms   ({deposits.get('created', 0)} created, "
        f"{deposits.get('other', 0)} other answers)"
    )
    print(
        f"  pgbench, deposit SQL   : {reference['tps']:8.0f} TPS     avg {reference['latency_avg_ms']:6.2f} ms"
    )
    print(
        f"  pgbench, minimal deposit: {minimal['tps']:7.0f} TPS     avg {minimal['latency_avg_ms']:6.2f} ms"
    )
    print(f"  deposits / minimal     : {figures['deposit_to_minimal_ratio']:.2f}   (target >= 0.40)")
    print(
        f"  per deposit            : server CPU {per_deposit['server_cpu_ms_per_deposit']:.2f} ms, "
        f"PostgreSQL CPU {per_deposit['pg_cpu_ms_per_deposit']:.2f} ms, "
        f"{per_deposit['statements_per_deposit']:.1f} statements, {per_deposit['commits_per_deposit']:.2f} commits"
    )
    print(f"  deposit p99            : {deposits['p99_ms']:.1f} ms (target < 100 ms)")
    print(f"  ledger after the run   : {'all invariants hold' if not violations else violations[:5]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
