"""Which addresses the media proxy may connect to: public ones only (unless settings allow more), checked
on the addresses a name resolves to, and those very addresses are the ones connected to."""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from agyn.settings import MediaSettings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
REFUSED_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
    "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "2002::/16", "fc00::/7", "fe80::/10", "ff00::/8"))
"""Loopback, private, link-local, unique-local, carrier-grade NAT, multicast, reserved, and the IPv6
forms that carry an IPv4 address inside (mapped, NAT64, 6to4)."""


class AddressRefused(Exception):
    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} is {address}, an address the media proxy may not reach (loopback, private, "
                         "link-local or reserved)")


class Guard:
    def __init__(self, settings: MediaSettings) -> None:
        self.allow_private = settings.allow_private
        self.allowed = tuple(ipaddress.ip_network(n, strict=False) for n in settings.allow_networks)

    def refuses(self, address: Address) -> bool:
        if self.allow_private or any(address in network for network in self.allowed
                                     if network.version == address.version):
            return False
        return not address.is_global or any(address in network for network in REFUSED_NETWORKS
                                            if network.version == address.version)

    def check_literal(self, host: str) -> None:
        """A URL whose host is an address (never resolved, so checked here)."""
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return
        if self.refuses(address):
            raise AddressRefused(host, str(address))


class GuardedResolver(AbstractResolver):
    """Resolves as usual, then refuses the name if any of its addresses is refused: the connector connects
    to what this returned, so a second lookup cannot swap in another address."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        for result in found:
            address = ipaddress.ip_address(result["host"])
            if self.guard.refuses(address):
                raise AddressRefused(host, str(address))
        return found

    async def close(self) -> None:
        await self.inner.close()
