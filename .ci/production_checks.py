"""Checks a GreenLoop that deploy/bin started in production mode, from outside, as an operator would.

Pages answer 200 with every static file they link (hashed names from the manifest); a signed deposit
succeeds under a request id of ours; the worker process (another process than the web's) refreshes
the rollups and its `stats.updated` reaches a dashboard socket through Redis; /metrics counts the
deposit; the web log has its JSON line under that id; the worker's jobs ran. Exits non-zero, saying what failed, at the first thing that does not hold.
Run with the built venv's python: it signs with GreenLoop's own kiosk signing code.
"""

import argparse
import json
import re
import secrets
import sys
import time
import uuid
from datetime import UTC, datetime

import httpx
from websockets.sync.client import connect

from kiosks.credentials import sign

DEMO_PASSWORD = "greenloop-demo-2026"  # noqa: S105 (the published demo password)
OFFICER, RESIDENT = "+8613900000002", "+8613700000001"
HASHED = re.compile(r"\.[0-9a-f]{12}\.(css|js|png|svg)$")


def fail(message: str) -> None:
    print(f"production check FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def check_page(http: httpx.Client, path: str) -> None:
    page = http.get(path)
    if page.status_code != 200:
        fail(f"{path} answered {page.status_code}")
    assets = sorted(set(re.findall(r"""(?:src|href)=["'](/static/[^"'?#]+)""", page.text)))
    if not assets:
        fail(f"{path} links no static files")
    if not any(HASHED.search(asset) for asset in assets):
        fail(f"{path} links no hashed static file: the manifest storage is not in use ({assets})")
    for asset in assets:
        response = http.get(asset)
        if response.status_code != 200 or not response.content:
            fail(f"{asset} (linked from {path}) answered {response.status_code}")
    print(f"ok  {path}: 200 with {len(assets)} static files")


def bearer(http: httpx.Client, phone: str) -> dict:
    response = http.post("/api/v1/auth/token", json={"phone": phone, "password": DEMO_PASSWORD})
    if response.status_code != 200:
        fail(f"login of {phone} answered {response.status_code}")
    return {"Authorization": f"Bearer {response.json()['access']}"}


def signed_deposit(http: httpx.Client, request_id: str) -> None:
    resident = bearer(http, RESIDENT)
    community = http.get("/api/v1/me", headers=resident).json()["community"]
    community_id = community["id"] if isinstance(community, dict) else community
    provisioned = http.post(
        "/api/v1/kiosks",
        headers=bearer(http, OFFICER),
        json={"community_id": community_id, "name": "CI kiosk", "materials": ["plastic"]},
    )
    if provisioned.status_code != 201:
        fail(f"provisioning a kiosk answered {provisioned.status_code}: {provisioned.text}")
    kiosk_id, secret = provisioned.json()["id"], provisioned.json()["secret"]
    code = http.get("/api/v1/me/code", headers=resident).json()["code"]
    body = json.dumps(
        {
            "deposit_id": str(uuid.uuid4()),
            "resident_code": code,
            "material": "plastic",
            "weight_g": 800,
            "occurred_at": datetime.now(UTC).isoformat(),
        }
    ).encode()
    path, timestamp, nonce = "/api/v1/kiosk/deposits", str(int(time.time())), secrets.token_hex(16)
    response = http.post(
        path,
        content=body,
        headers={
            "Authorization": f"Kiosk {kiosk_id}:{sign(secret, 'POST', path, timestamp, nonce, body)}",
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "Content-Type": "application/json",
            "X-Request-ID": request_id,
        },
    )
    if response.status_code != 201:
        fail(f"the signed deposit answered {response.status_code}: {response.text}")
    if response.headers.get("X-Request-ID") != request_id:
        fail(f"X-Request-ID not echoed: {response.headers.get('X-Request-ID')!r}")
    print(f"ok  signed deposit: 201, {response.json()['points_awarded']} points, request id echoed")


def stats_socket(http: httpx.Client, base_url: str):
    ticket = http.post("/api/v1/ws-ticket", headers=bearer(http, OFFICER))
    if ticket.status_code not in (200, 201):
        fail(f"ws-ticket answered {ticket.status_code}")
    url = base_url.replace("http://", "ws://") + f"/ws/stats/?ticket={ticket.json()['ticket']}"
    return connect(url, open_timeout=10)


def wait_for_stats_updated(socket, seconds: int = 30) -> float:
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        try:
            message = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            break
        if message.get("event") == "stats.updated":
            return time.monotonic() - started
    fail(f"no stats.updated reached the dashboard socket within {seconds} s of the deposit")


def metric_sum(text: str, name: str, label: str = "") -> float:
    pattern = re.compile(rf"^{name}(?:{{([^}}]*)}})? ([0-9.e+-]+)$", re.MULTILINE)
    return sum(float(value) for labels, value in pattern.findall(text) if label in (labels or ""))


def check_metrics(http: httpx.Client) -> None:
    response = http.get("/metrics")
    if response.status_code != 200:
        fail(f"/metrics answered {response.status_code}")
    if metric_sum(response.text, "greenloop_deposits_total") < 1:
        fail("/metrics does not count the deposit")
    if (
        metric_sum(
            response.text, "greenloop_http_request_duration_seconds_count", 'route="api/v1/kiosk/deposits"'
        )
        < 1
    ):
        fail("/metrics has no latency for the deposit route")
    if metric_sum(response.text, "greenloop_db_pool_connections", 'state="size"') < 1:
        fail("/metrics shows no database pool connections (DATABASE_POOL=1)")
    print("ok  /metrics counts the deposit, its latency and the pool's connections")


def check_log(log_path: str, request_id: str) -> None:
    for _ in range(20):
        for line in open(log_path, encoding="utf-8", errors="replace"):
            if request_id not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                fail(f"a log line is not JSON: {line.strip()}")
            if record.get("request_id") == request_id and record.get("route") == "api/v1/kiosk/deposits":
                if record.get("status") != 201 or "duration_ms" not in record or "kiosk_id" not in record:
                    fail(f"the deposit's log line lacks status, duration or kiosk: {record}")
                print(f"ok  log line for {request_id}: {line.strip()}")
                return
        time.sleep(0.5)
    fail(f"no JSON log line carries request id {request_id}")


def check_jobs(http: httpx.Client, seconds: int = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = http.get("/metrics").text
        if metric_sum(text, "greenloop_job_runs_total", 'job="refresh_rollups"') >= 1:
            print("ok  the worker ran refresh_rollups")
            return
        time.sleep(2)
    fail("the worker never ran refresh_rollups")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--log", required=True, help="the web processes' log file")
    args = parser.parse_args()
    request_id = f"ci-deposit-{uuid.uuid4().hex[:12]}"
    with httpx.Client(base_url=args.base_url, timeout=15) as http:
        for path in ("/admin/login/", "/dashboard/login/", "/api/docs/", "/public/"):
            check_page(http, path)
        with stats_socket(http, args.base_url) as socket:
            signed_deposit(http, request_id)
            after = wait_for_stats_updated(socket)
        print(f"ok  the worker's stats.updated reached the dashboard socket {after:.1f} s after the deposit")
        check_metrics(http)
        check_log(args.log, request_id)
        check_jobs(http)


if __name__ == "__main__":
    main()
