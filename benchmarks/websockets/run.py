"""Fan-out of one kiosk alert to 1,000 dashboard sockets through a real server and Redis.

    .venv/bin/python benchmarks/websockets/run.py --database-url postgres://postgres@127.0.0.1:5432/greenloop_bench \
        --redis-url redis://127.0.0.1:6379/7 --port 8170 [--clients 1000] [--rounds 3] [--long] [--json]

Starts `deploy/bin/web` (uvicorn, 2 workers, Redis channel layer) on an empty database it migrates,
opens `--clients` `/ws/stats/` sockets of city officers (each with its own single-use ticket), then
per round sends one signed kiosk heartbeat that reports a full bin: the server commits the alert and
publishes `kiosk.alert` to the district's and the city's groups; every socket is in the city's group.
Times run from just before the heartbeat is sent until each socket has the alert: p50 and p100 over
the sockets, per round, and the medians over rounds. Also the heartbeat's own HTTP answer time.

`--long` keeps the sockets open for `--long-seconds` (600) and fires a round every 60 s, then
counts the sockets the server closed. Targets: every socket receives within 1 s, none dropped.
"""

import argparse
import asyncio
import json
import os
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.common import operator_env, recreate_database  # noqa: E402

HEARTBEAT = "/api/v1/kiosk/heartbeat"
# Handshakes in flight at once: enough to connect 1,000 well inside a ticket's 30 s lifetime.
CONNECT_CONCURRENCY = 50


def _environment(args) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="backend.settings",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        HOST="127.0.0.1",
        PORT=str(args.port),
        WEB_CONCURRENCY=str(args.workers),
        VENV=str(Path(sys.executable).parent.parent),
        PROMETHEUS_MULTIPROC_DIR=f"/tmp/greenloop-bench-ws-{args.port}",
        **operator_env("127.0.0.1,localhost"),
    )
    return env


def _raise_open_files(need: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, need))
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def _setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _prepare(clients: int):
    """A community, a kiosk in it and city officers to hold the sockets; returns (kiosk, officers)."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, User
    from geo.models import Community, District
    from rewards.models import Material

    district = District.objects.get(slug="weidu")
    community = Community.objects.create(district=district, name="压测社区")
    from kiosks.models import Kiosk

    kiosk = Kiosk.objects.create(community=community, name="压测回收机")
    kiosk.materials.set(Material.objects.filter(code="paper"))
    password = make_password(secrets.token_urlsafe(16))
    # Tickets are per person and single use; ten officers share the sockets as a control room would.
    officers = [
        User.objects.create(
            phone=f"+861390000{n:04d}",
            display_name=f"市局{n}",
            role=Role.CITY_OFFICER,
            city=district.city,
            password=password,
        )
        for n in range(min(clients, 10))
    ]
    return kiosk, officers


def _ticket(officer) -> str:
    from accounts.services import issue_ws_ticket

    return issue_ws_ticket(user=officer)[0]


def _signed_heartbeat(kiosk, percent: int) -> tuple[bytes, dict[str, str]]:
    from kiosks.credentials import derive_secret, sign

    body = json.dumps({"status": "ok", "fill_levels": {"paper": percent}}).encode()
    timestamp, nonce = str(int(time.time())), secrets.token_hex(12)
    signature = sign(derive_secret(kiosk.pk, kiosk.secret_version), "POST", HEARTBEAT, timestamp, nonce, body)
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Kiosk {kiosk.pk}:{signature}",
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
    }
    return body, headers


def _wait_for_server(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("server did not become ready")


_CURRENT_ROUND = [0]


class Client:
    def __init__(self, socket):
        self.socket = socket
        self.arrivals: dict[int, float] = {}
        self.closed_at: float | None = None
        self.close_code = None

    async def listen(self):
        import websockets

        try:
            async for frame in self.socket:
                # Alerts say nothing of the round: each is filed under the round in progress.
                if json.loads(frame).get("event") == "kiosk.alert":
                    self.arrivals.setdefault(_CURRENT_ROUND[0], time.perf_counter())
        except websockets.ConnectionClosed:
            pass
        self.closed_at = time.perf_counter()
        self.close_code = self.socket.close_code


async def _connect_all(port: int, officers, count: int) -> list[Client]:
    import websockets
    from asgiref.sync import sync_to_async

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(n):
        async with gate:
            # Issued just before its handshake: a ticket lives 30 s, less than 1,000 handshakes may take.
            ticket = await sync_to_async(_ticket)(officers[n % len(officers)])
            socket = await websockets.connect(
                f"ws://127.0.0.1:{port}/ws/stats/?ticket={ticket}", open_timeout=30, max_queue=None
            )
            return Client(socket)

    return list(await asyncio.gather(*(one(n) for n in range(count))))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


async def _round(number: int, port: int, kiosk, clients: list[Client], timeout: float) -> dict:
    """One alert: clear the bin (no alert), then report it full and time every socket's arrival."""
    import httpx
    from asgiref.sync import sync_to_async

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        body, headers = await sync_to_async(_signed_heartbeat)(kiosk, 5)
        cleared = await http.post(HEARTBEAT, content=body, headers=headers)
        assert cleared.status_code == 204, (cleared.status_code, cleared.text)
        body, headers = await sync_to_async(_signed_heartbeat)(kiosk, 95)
        _CURRENT_ROUND[0] = number
        started = time.perf_counter()
        answer = await http.post(HEARTBEAT, content=body, headers=headers)
        answered = time.perf_counter()
        assert answer.status_code == 204, answer.text
    open_clients = [c for c in clients if c.closed_at is None]
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline and any(number not in c.arrivals for c in open_clients):
        await asyncio.sleep(0.005)
    latencies = [(c.arrivals[number] - started) * 1000 for c in open_clients if number in c.arrivals]
    return {
        "round": number,
        "heartbeat_answer_ms": round((answered - started) * 1000, 1),
        "received": len(latencies),
        "open": len(open_clients),
        "p50_ms": round(_percentile(latencies, 0.5), 1) if latencies else None,
        "p100_ms": round(max(latencies), 1) if latencies else None,
    }


async def _measure(args, kiosk, officers) -> dict:

    connect_started = time.perf_counter()
    clients = await _connect_all(args.port, officers, args.clients)
    connect_seconds = time.perf_counter() - connect_started
    listeners = [asyncio.ensure_future(c.listen()) for c in clients]
    opened = time.perf_counter()

    rounds = []
    number = 0
    if args.long:
        end = opened + args.long_seconds
        while True:
            number += 1
            rounds.append(await _round(number, args.port, kiosk, clients, args.timeout))
            _print_round(rounds[-1])
            if time.perf_counter() + args.long_interval > end:
                break
            await asyncio.sleep(args.long_interval)
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
    else:
        for _ in range(args.rounds):
            number += 1
            rounds.append(await _round(number, args.port, kiosk, clients, args.timeout))
            _print_round(rounds[-1])
    held_seconds = time.perf_counter() - opened
    dropped = [c for c in clients if c.closed_at is not None]
    for client in clients:
        await client.socket.close()
    await asyncio.gather(*listeners, return_exceptions=True)
    p50s = [r["p50_ms"] for r in rounds if r["p50_ms"] is not None]
    p100s = [r["p100_ms"] for r in rounds if r["p100_ms"] is not None]
    return {
        "clients": args.clients,
        "server_workers": args.workers,
        "connect_seconds": round(connect_seconds, 2),
        "held_seconds": round(held_seconds, 1),
        "rounds": rounds,
        "p50_ms": round(statistics.median(p50s), 1) if p50s else None,
        "p100_ms": round(statistics.median(p100s), 1) if p100s else None,
        "worst_p100_ms": max(p100s) if p100s else None,
        "heartbeat_answer_ms": statistics.median(r["heartbeat_answer_ms"] for r in rounds),
        "all_received": all(r["received"] == args.clients for r in rounds),
        "dropped_sockets": len(dropped),
        "drop_close_codes": sorted({str(c.close_code) for c in dropped}),
    }


def _print_round(r: dict) -> None:
    print(
        f"round {r['round']}: {r['received']}/{r['open']} received, p50 {r['p50_ms']} ms, "
        f"p100 {r['p100_ms']} ms, heartbeat answered in {r['heartbeat_answer_ms']} ms",
        file=sys.stderr,
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a database this run may drop and create")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--port", type=int, default=8170)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=10, help="seconds to wait for every socket")
    parser.add_argument("--long", action="store_true", help="hold the sockets for --long-seconds")
    parser.add_argument("--long-seconds", type=float, default=600)
    parser.add_argument("--long-interval", type=float, default=60)
    parser.add_argument("--server-log", help="write the server's output to this file")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    # Each socket is a descriptor here and one in a server worker, which inherits this limit.
    open_files = _raise_open_files(args.clients * 2 + 256)
    env = _environment(args)
    recreate_database(args.database_url)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if migrate.returncode != 0:
        print(migrate.stderr, file=sys.stderr)
        return 1
    _setup_django(env)
    kiosk, officers = _prepare(args.clients)
    from django.db import connection

    connection.close()

    server_log = open(args.server_log, "w") if args.server_log else subprocess.DEVNULL
    server = subprocess.Popen(
        [str(ROOT / "deploy" / "bin" / "web")],
        cwd=ROOT,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for_server(args.port, server)
        result = asyncio.run(_measure(args, kiosk, officers))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    result["open_file_limit"] = open_files
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['clients']} sockets through Redis, {result['server_workers']} server workers")
        print(f"  connected in {result['connect_seconds']} s, held {result['held_seconds']} s")
        print(f"  alert fan-out p50 {result['p50_ms']} ms, p100 {result['p100_ms']} ms (medians of rounds)")
        print(f"  worst p100 {result['worst_p100_ms']} ms, all received: {result['all_received']}")
        print(f"  heartbeat answered in {result['heartbeat_answer_ms']} ms (median)")
        print(f"  dropped sockets: {result['dropped_sockets']} {result['drop_close_codes']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
