"""The client address: forwarded headers count only from trusted proxies."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from backend.client_address import parse_networks, real_client_address

pytestmark = pytest.mark.django_db

TRUSTED = parse_networks(["10.0.0.0/8", "192.0.2.10"])


def test_without_trusted_proxies_the_socket_address_is_the_client():
    assert real_client_address("10.0.0.5", "1.2.3.4", ()) == "10.0.0.5"


def test_a_client_outside_the_trusted_proxies_cannot_name_another_address():
    assert real_client_address("198.51.100.4", "1.2.3.4", TRUSTED) == "198.51.100.4"


def test_the_rightmost_untrusted_hop_is_the_client_not_the_client_written_left_end():
    assert real_client_address("10.0.0.5", "6.6.6.6, 198.51.100.9, 192.0.2.10", TRUSTED) == "198.51.100.9"


def test_garbage_in_the_header_stops_the_walk_at_the_last_real_hop():
    assert real_client_address("10.0.0.5", "198.51.100.9, not-an-ip", TRUSTED) == "10.0.0.5"


def test_a_chain_of_trusted_proxies_with_no_client_named_gives_the_farthest_proxy():
    assert real_client_address("10.0.0.5", "10.0.0.6", TRUSTED) == "10.0.0.6"


def test_a_bad_trusted_proxy_entry_stops_start_up():
    with pytest.raises(ImproperlyConfigured):
        parse_networks(["10.0.0.0/8", "everyone"])


def test_no_start_command_trusts_every_forwarder():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    starters = [
        root / "Dockerfile",
        root / "backend" / "cli.py",
        *sorted((root / "scripts").glob("*")),
        *sorted((root / "deploy" / "bin").glob("*")),
    ]
    texts = {path.name: path.read_text() for path in starters if path.is_file()}

    trust_all = ("forwarded-allow-ips='*'", 'forwarded-allow-ips="*"', 'forwarded_allow_ips="*"')
    assert not [name for name, text in texts.items() if any(pattern in text for pattern in trust_all)]
    assert any("TRUSTED_PROXIES" in text for text in texts.values())
    web = (root / "deploy" / "bin" / "web").read_text()
    assert "--no-proxy-headers" in web
