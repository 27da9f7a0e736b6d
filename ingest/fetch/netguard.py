"""Which network addresses the crawler may connect to (server-side request forgery guard).

A page, a redirect, a robots.txt or a sitemap we crawl must not lead the crawler of a live
deployment to the deployment's own network: the API on loopback, a cloud metadata service on
169.254.169.254, an intranet on 10.0.0.0/8. Unless `CrawlConfig.allow_private` is set, only
*global* unicast addresses are allowed; refused are private, loopback, link-local, shared
(100.64.0.0/10), multicast, reserved, unspecified and documentation addresses, also when they
hide inside an IPv6 address (IPv4-mapped `::ffff:a.b.c.d`, 6to4 `2002::/16`, Teredo).
`CrawlConfig.allowed_networks` lets named networks through (the offline mirror and the tests
allow loopback only).

Where it is checked, and why there: `ConnectGuard.trace` is hooked into httpcore's `trace`
extension of every request the `Exchanger` sends (so every attempt, redirect hop, robots.txt
and sitemap fetch, whatever httpx client the crawler was given):

1. `connect_tcp.started`: the host the connection is about to be opened to is resolved and
   every address checked, so no packet is sent to a refused address in the normal case;
2. `connect_tcp.complete`: the address the socket is actually connected to is checked before a
   byte of the request is written. DNS rebinding (a name that answers a public address to the
   first lookup and 127.0.0.1 to the connect's own lookup) therefore cannot get through: what
   counts is the peer of the open socket, not a lookup. The connection is closed at once.

A name that resolves to several addresses is refused when any of them is refused (a public
site has no business resolving to a private address). Connections are checked when they are
opened; a kept-alive connection was checked then. Behind an HTTP proxy (httpx honours
HTTP(S)_PROXY in the environment) the check sees the proxy's address, not the target's: the
proxy must then enforce the same rule.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

from samsok.ingest.config import parse_networks
from samsok.ingest.errors import AddressRefused

__all__ = ["AddressPolicy", "ConnectGuard"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: IPv4 ranges `ipaddress` counts as global although no web site lives there.
_NOT_GLOBAL_V4 = (ipaddress.IPv4Network("100.64.0.0/10"),)


def _embedded_v4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo server and client)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [address.ipv4_mapped, address.sixtofour]
    if address.teredo:
        found.extend(address.teredo)
    return [a for a in found if a is not None]


def _category(address: IPAddress) -> str | None:
    """Why `address` is not a public web server's address, or None when it may be one."""
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        (
            "shared (carrier-grade NAT)",
            any(address in net for net in _NOT_GLOBAL_V4)
            if isinstance(address, ipaddress.IPv4Address)
            else False,
        ),
        ("not global", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


class AddressPolicy:
    """Decides whether one IP address may be connected to."""

    def __init__(
        self, *, allow_private: bool = False, allowed_networks: Iterable[str] = ()
    ) -> None:
        self.allow_private = allow_private
        self.allowed_networks = parse_networks(allowed_networks)

    def refusal(self, ip: str) -> str | None:
        """Why a connection to `ip` is refused ("127.0.0.1 is loopback"), None if allowed."""
        if self.allow_private:
            return None
        try:
            address = ipaddress.ip_address(ip.split("%", 1)[0])  # drop an IPv6 zone ("%eth0")
        except ValueError:
            return f"{ip!r} is not an IP address"
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1 on the wire
        if any(address in network for network in self.allowed_networks):
            return None
        for candidate in (address, *_embedded_v4(address)):
            category = _category(candidate)
            if category is not None:
                shown = str(address) if candidate == address else f"{address} ({candidate})"
                return f"{shown} is {category}"
        return None

    def check_ip(self, ip: str, host: str) -> None:
        reason = self.refusal(ip)
        if reason is not None:
            raise AddressRefused(host, _with_host(host, ip, reason))

    def check_host(self, host: str, port: int | None) -> None:
        """Resolve `host` and refuse it when any of its addresses is refused.

        A name that does not resolve is left to the connect attempt, which fails on its own.
        """
        if self.allow_private:
            return
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return
        for info in infos:
            self.check_ip(str(info[4][0]), host)


def _with_host(host: str, ip: str, reason: str) -> str:
    return reason if host == ip.split("%", 1)[0] else f"{host} resolves to {reason}"


class ConnectGuard:
    """httpcore `trace` hook that applies an `AddressPolicy` to every new connection."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    def trace(self, name: str, info: dict[str, Any]) -> None:
        if self.policy.allow_private:
            return
        if name == "connection.connect_tcp.started":
            self.policy.check_host(str(info.get("host", "")), info.get("port"))
        elif name == "connection.connect_tcp.complete":
            stream = info.get("return_value")
            get = getattr(stream, "get_extra_info", None)
            sock = get("socket") if callable(get) else None
            try:
                # Fail closed: a connection whose peer cannot be read is not used.
                peer = str(sock.getpeername()[0]) if isinstance(sock, socket.socket) else ""
                reason = self.policy.refusal(peer) if peer else "cannot read the peer address"
            except OSError as exc:
                peer, reason = "", f"cannot read the peer address ({exc})"
            if reason is not None:
                with contextlib.suppress(Exception):
                    stream.close()  # type: ignore[union-attr]
                raise AddressRefused(peer, f"peer address {reason}")
