"""`greenloop kiosk-sim`: drive a running GreenLoop the way kiosk firmware does.

It signs every request, opens a session that a resident claims from the app, posts deposits, then goes
"offline", keeps deposits with the resident's code and uploads them as one batch (with a retried
duplicate inside). At the end it compares the points the kiosk was told it credited with the change in
the resident's balance, and exits non-zero if they differ.

Against the demo data of `greenloop serve` it needs no arguments: it signs in as the demo district
officer to provision a kiosk (the secret is shown once, to it) and as a demo resident to claim sessions.
"""

import argparse
import json
import secrets
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from .credentials import sign

DEMO_PASSWORD = "greenloop-demo-2026"  # noqa: S105 (the published demo password)


class KioskClient:
    def __init__(self, http: httpx.Client, kiosk_id: int, secret: str):
        self.http, self.kiosk_id, self.secret = http, kiosk_id, secret

    def request(self, method: str, path: str, body: dict | None = None) -> httpx.Response:
        raw = b"" if body is None else json.dumps(body).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        signature = sign(self.secret, method, path, timestamp, nonce, raw)
        headers = {
            "Authorization": f"Kiosk {self.kiosk_id}:{signature}",
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "Content-Type": "application/json",
        }
        return self.http.request(method, path, content=raw, headers=headers)


def _login(http: httpx.Client, phone: str, password: str) -> dict:
    response = http.post("/api/v1/auth/token", json={"phone": phone, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access']}"}


def _deposit(material: str, weight_g: int, occurred_at: datetime, **who) -> dict:
    return {
        "deposit_id": str(uuid.uuid4()),
        "material": material,
        "weight_g": weight_g,
        "occurred_at": occurred_at.isoformat(),
        **who,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="greenloop kiosk-sim", description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument(
        "--kiosk-id", type=int, help="an existing kiosk (with --secret); else one is provisioned"
    )
    parser.add_argument("--secret", help="the kiosk's secret, as shown once when it was provisioned")
    parser.add_argument("--officer-phone", default="+8613900000002", help="district officer who provisions")
    parser.add_argument("--officer-password", default=DEMO_PASSWORD)
    parser.add_argument("--resident-phone", default="+8613700000001", help="resident who claims the session")
    parser.add_argument("--resident-password", default=DEMO_PASSWORD)
    parser.add_argument("--deposits", type=int, default=3, help="deposits during the online session")
    parser.add_argument("--offline-batch", type=int, default=5, help="deposits kept offline, then uploaded")
    parser.add_argument("--material", default="plastic")
    return parser


def run(args: argparse.Namespace, out=sys.stdout) -> int:
    with httpx.Client(base_url=args.base_url, timeout=10) as http:
        resident = _login(http, args.resident_phone, args.resident_password)
        me = http.get("/api/v1/me", headers=resident).json()
        balance_before = me["balance"]
        if args.kiosk_id and args.secret:
            kiosk_id, secret = args.kiosk_id, args.secret
        else:
            officer = _login(http, args.officer_phone, args.officer_password)
            provisioned = http.post(
                "/api/v1/kiosks",
                headers=officer,
                json={
                    "community_id": me["community"]["id"],
                    "name": f"模拟回收机 {uuid.uuid4().hex[:4]}",
                    "materials": ["paper", "plastic", "metal", "glass"],
                },
            )
            provisioned.raise_for_status()
            kiosk_id, secret = provisioned.json()["id"], provisioned.json()["secret"]
            print(f"provisioned kiosk {kiosk_id}", file=out)
        kiosk = KioskClient(http, kiosk_id, secret)
        kiosk.request("POST", "/api/v1/kiosk/heartbeat", {"status": "ok", "fill_levels": {args.material: 35}})

        session = kiosk.request("POST", "/api/v1/kiosk/sessions").json()
        claim = http.post("/api/v1/kiosk-sessions/claim", headers=resident, json={"code": session["code"]})
        claim.raise_for_status()
        status = kiosk.request("GET", f"/api/v1/kiosk/sessions/{session['session_id']}").json()
        print(
            f"session {session['session_id']} {status['status']} by {status['resident_display_name']}",
            file=out,
        )

        credited = 0
        now = datetime.now(UTC)
        for n in range(args.deposits):
            body = _deposit(args.material, 400 + 150 * n, now, session_id=session["session_id"])
            answer = kiosk.request("POST", "/api/v1/kiosk/deposits", body)
            retry = kiosk.request("POST", "/api/v1/kiosk/deposits", body)  # a flaky network retries
            answer.raise_for_status()
            credited += answer.json()["points_awarded"]
            print(
                f"deposit {body['weight_g']} g -> {answer.status_code} +{answer.json()['points_awarded']} "
                f"(retry {retry.status_code})",
                file=out,
            )
        kiosk.request("POST", f"/api/v1/kiosk/sessions/{session['session_id']}/close")

        print(f"offline: keeping {args.offline_batch} deposits", file=out)
        code = http.get("/api/v1/me/code", headers=resident).json()["code"]
        # A deposit by code is dated inside the code's two minutes, however late the upload comes.
        scanned = datetime.now(UTC)
        kept = [
            _deposit(args.material, 600 + 100 * n, scanned + timedelta(seconds=n % 90), resident_code=code)
            for n in range(args.offline_batch)
        ]
        if kept:
            kept.append(kept[0])  # an upload interrupted and resumed sends one item twice
            results = kiosk.request("POST", "/api/v1/kiosk/deposits/batch", {"deposits": kept}).json()[
                "results"
            ]
            for item in results:
                if item.get("status") == 201:
                    credited += item["points_awarded"]
            print(
                "batch: " + ", ".join(str(r.get("status") or r["error"]["code"]) for r in results), file=out
            )

        balance_after = http.get("/api/v1/me", headers=resident).json()["balance"]
    change = balance_after - balance_before
    verdict = "match" if change == credited else "MISMATCH"
    print(
        f"credited {credited} points; balance {balance_before} -> {balance_after} ({change:+d}): {verdict}",
        file=out,
    )
    return 0 if change == credited else 1


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))
