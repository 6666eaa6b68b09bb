"""The client's real address: forwarded headers count only when they arrive through a trusted proxy.

`TRUSTED_PROXIES` lists the addresses and networks of the load balancers in front of GreenLoop. A
request from anywhere else is taken at its socket address, whatever `X-Forwarded-For` it carries, so a
client cannot buy itself a fresh throttle or lockout budget by writing the header itself.
"""

import ipaddress
from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES entry {entry!r} is not an address or network."
            ) from exc
    return tuple(networks)


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def real_client_address(remote_addr: str, forwarded_for: str, trusted: tuple[Network, ...]) -> str:
    """Walk `X-Forwarded-For` from the right, past trusted proxies, to the first hop that is not one.

    Only the right end is trustworthy: each trusted proxy appends the address it saw, while everything
    to the left was written by whoever connected first, the client included.
    """
    if not trusted or not _is_trusted(remote_addr, trusted):
        return remote_addr
    address = remote_addr
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            # A trusted proxy never writes garbage: the hop before it is the last one known to be real.
            return address
        address = hop
        if not _is_trusted(hop, trusted):
            return hop
    return address


class ClientAddressMiddleware:
    """Puts the real client address in REMOTE_ADDR, so throttles, lockouts and logs all read one value."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.trusted = parse_networks(settings.TRUSTED_PROXIES)

    def __call__(self, request):
        if self.trusted:
            meta = request.META
            meta["REMOTE_ADDR"] = real_client_address(
                meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""), self.trusted
            )
        return self.get_response(request)
