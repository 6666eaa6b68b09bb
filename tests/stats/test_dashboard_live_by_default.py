"""The two-command start is live: `greenloop serve` on the embedded default (no DATABASE_URL, no Redis)
runs the scheduled jobs in the server itself, so a deposit made through the API reaches an open
dashboard within seconds, with nobody running `refresh_rollups` by hand.

Starts the real command in a subprocess on a fresh data folder (its own embedded PostgreSQL and demo
data), makes the deposit with the kiosk simulator, and watches the page in Debian's Chromium.
"""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from .test_dashboard_browser import chromium_page

DEMO_OFFICER = "+8613900000002"  # 魏都区环卫, from demo/data.py
DEMO_PASSWORD = "greenloop-demo-2026"
# The in-process job refreshes the rollups every 5 s; the page re-fetches 0.3 s after the event.
LIVE_WITHIN_S = 15


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def embedded_serve(data_dir: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    env["GREENLOOP_DATA_DIR"] = str(data_dir)
    log = open(data_dir / "serve.log", "w+b")
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, (data_dir / "serve.log").read_text()
            time.sleep(0.5)
        else:
            raise AssertionError(
                "greenloop serve never became healthy:\n" + (data_dir / "serve.log").read_text()
            )
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _weidu_deposits_kg(page) -> float:
    stats = page.evaluate(
        "fetch('/api/v1/stats/districts', {credentials: 'same-origin'}).then(r => r.json())"
    )
    (weidu,) = [row for row in stats["results"] if row["district"]["name"] == "魏都区"]
    return sum(weidu["deposits_kg_by_material"].values())


@pytest.mark.browser
def test_a_deposit_through_the_api_shows_on_an_open_dashboard_without_any_manual_step(tmp_path):
    with embedded_serve(tmp_path) as base_url, chromium_page() as page:
        page.goto(f"{base_url}/dashboard/login/")
        page.fill("#id_username", DEMO_OFFICER)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/dashboard/")
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_selector("#live[data-state=open]", timeout=10_000)
        assert page.locator("#live[data-updated]").count() == 0
        before = _weidu_deposits_kg(page)

        # The demo resident lives in Weidu; the simulator provisions a kiosk there and deposits once.
        deposited = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "backend.cli",
                "kiosk-sim",
                "--base-url",
                base_url,
                "--deposits",
                "1",
                "--offline-batch",
                "0",
                "--material",
                "plastic",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert deposited.returncode == 0, deposited.stdout + deposited.stderr
        made_at = time.monotonic()

        page.wait_for_selector("#live[data-updated]", timeout=LIVE_WITHIN_S * 1000)
        seen_after = time.monotonic() - made_at
        assert seen_after < LIVE_WITHIN_S
        # The refresh the event caused shows the deposit: the district's recycled weight went up.
        assert _weidu_deposits_kg(page) > before
    print(f"dashboard refreshed {seen_after:.1f} s after the deposit")
