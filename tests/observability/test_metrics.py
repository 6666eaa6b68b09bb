"""/metrics: Prometheus text for the configured scrapers only, counting what the domain committed."""

import io
import re

import pytest
from django.test import Client

from accounts.services import issue_resident_code
from tests.kiosks.helpers import deposit_body, make_kiosk, signed

pytestmark = pytest.mark.django_db


def metric(text: str, name: str, labels: str = "") -> float:
    pattern = re.compile(rf"^{re.escape(name)}(?:{{([^}}]*)}})? (\S+)$", re.MULTILINE)
    return sum(float(value) for found, value in pattern.findall(text) if labels in found)


def scrape(**extra) -> str:
    response = Client().get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_metrics_answer_the_local_scraper():
    text = scrape()

    assert "# TYPE greenloop_http_request_duration_seconds histogram" in text
    assert "greenloop_job_lag_seconds" in text


def test_metrics_are_hidden_from_other_addresses_even_with_a_forged_forwarded_header():
    outsider = Client(REMOTE_ADDR="203.0.113.9")

    assert outsider.get("/metrics").status_code == 404
    assert outsider.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 404
    assert outsider.get("/metrics", HTTP_X_REAL_IP="127.0.0.1").status_code == 404


def test_a_token_opens_metrics_from_anywhere_and_a_wrong_one_does_not(settings):
    settings.METRICS_TOKEN = "scrape-token-for-tests-0123456789abcdef"
    outsider = Client(REMOTE_ADDR="203.0.113.9")

    assert outsider.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {settings.METRICS_TOKEN}").status_code == 200
    assert outsider.get("/metrics", HTTP_AUTHORIZATION="Bearer guess").status_code == 404


def test_configured_networks_open_metrics(settings):
    import ipaddress

    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.8.0.0/16")]

    assert Client(REMOTE_ADDR="10.8.3.4").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_deposit_is_counted_once_with_its_credit_and_latency(community, resident):
    kiosk = make_kiosk(community)
    body = deposit_body(resident_code=issue_resident_code(resident)[0], material="paper", weight_g=2500)
    before = scrape()

    assert signed("POST", "/api/v1/kiosk/deposits", body, kiosk=kiosk).status_code == 201
    assert signed("POST", "/api/v1/kiosk/deposits", body, kiosk=kiosk).status_code == 200  # a retry
    after = scrape()

    assert metric(after, "greenloop_deposits_total") - metric(before, "greenloop_deposits_total") == 1
    credited = 'kind="deposit"'
    assert (
        metric(after, "greenloop_credits_total", credited)
        - metric(before, "greenloop_credits_total", credited)
        == 1
    )
    assert (
        metric(after, "greenloop_points_credited_total", credited)
        - metric(before, "greenloop_points_credited_total", credited)
        == 50
    )
    route = 'route="api/v1/kiosk/deposits"'
    assert (
        metric(after, "greenloop_http_request_duration_seconds_count", route)
        - metric(before, "greenloop_http_request_duration_seconds_count", route)
        == 2
    )


def test_a_refused_deposit_counts_nothing(community, resident):
    kiosk = make_kiosk(community)
    body = deposit_body(resident_code=issue_resident_code(resident)[0], material="paper", weight_g=10**9)
    before = scrape()

    assert signed("POST", "/api/v1/kiosk/deposits", body, kiosk=kiosk).status_code == 400

    assert metric(scrape(), "greenloop_deposits_total") == metric(before, "greenloop_deposits_total")


def test_invented_methods_share_one_label():
    Client().generic("BREW", "/healthz")
    Client().generic("FROBNICATE", "/healthz")

    text = scrape()
    assert 'method="BREW"' not in text and 'method="FROBNICATE"' not in text
    assert metric(text, "greenloop_http_request_duration_seconds_count", 'method="other"') >= 2


def test_the_rollup_watermarks_age_is_reported_per_source():
    from django.core.management import call_command

    call_command("refresh_rollups", stdout=io.StringIO())

    text = scrape()
    ages = re.findall(
        r'^greenloop_rollup_watermark_age_seconds\{source="([^"]+)"\} (\S+)$', text, re.MULTILINE
    )
    assert ages and all(0 <= float(age) < 60 for _source, age in ages)


def test_in_multiprocess_mode_metrics_add_up_across_processes(monkeypatch, tmp_path):
    import os
    import subprocess
    import sys

    script = "from backend.observability import metrics; metrics.DEPOSITS.inc({n})"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for n in (3, 4):  # two server workers, each counting its own deposits
        subprocess.run([sys.executable, "-c", script.format(n=n)], env=env, check=True, timeout=60)  # noqa: S603
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    assert metric(scrape(), "greenloop_deposits_total") == 7
