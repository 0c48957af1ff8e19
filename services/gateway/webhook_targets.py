"""Where webhooks may be sent: public http(s) addresses, plus what the operator allows.

A webhook URL is a request the gateway makes on a tenant's behalf from inside the network, so
it must not reach the gateway's neighbours (server-side request forgery): loopback, link-local
(169.254.169.254 is the cloud metadata service), private and shared ranges, multicast and the
unspecified address are refused, and so is any scheme but http and https. The operator may
allow private targets (``TUNELOOP_GATEWAY_WEBHOOK_ALLOWED_TARGETS``: networks in CIDR notation
and host names).

The check runs when a webhook is registered (a 422 says why) and again before every delivery,
after resolving the host name; the delivery then connects to the very address that passed the
check (the name still in ``Host`` and in TLS's SNI), so a name that resolves to a public address
at registration and to 127.0.0.1 later (DNS rebinding) reaches nothing. Every address a name
resolves to must pass. Redirects are never followed.
"""

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]
SCHEMES = ("http", "https")
HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_-]+)*$")
SETTING = "TUNELOOP_GATEWAY_WEBHOOK_ALLOWED_TARGETS"


class TargetRefused(ValueError):
    """The URL may not receive webhooks; the message says why and what would be accepted."""


class TargetUnresolved(ValueError):
    """The host name did not resolve (maybe for a moment: a delivery retries)."""


@dataclass(frozen=True)
class AllowedTargets:
    """Private targets the operator allows: networks and exact host names."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, text: str) -> "AllowedTargets":
        """``"10.0.0.0/8, 127.0.0.1, hooks.internal"``; raises ValueError naming a bad entry."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            name = normal_host(entry)
            if not HOST_NAME.match(name):
                raise ValueError(
                    f"{entry!r} is neither a network (CIDR, e.g. 10.0.0.0/8) nor a host name"
                )
            hosts.add(name)
        return cls(tuple(networks), frozenset(hosts))

    def allows_host(self, host: str) -> bool:
        return normal_host(host) in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(
            address in network for network in self.networks if network.version == address.version
        )


def normal_host(host: str) -> str:
    return host.strip().lower().rstrip(".")


def unmapped(address: IPAddress) -> IPAddress:
    """An IPv4 address written as IPv6 (``::ffff:127.0.0.1``) as the IPv4 address it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def why_forbidden(address: IPAddress) -> str | None:
    """What kind of non-public address this is, or ``None`` for a public one."""
    address = unmapped(address)
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the system resolver's order."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetUnresolved(f"the host name {host!r} does not resolve ({exc})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Destination:
    """Where one delivery may connect: the checked addresses, in the resolver's order, with
    the URL's host name kept for ``Host`` and for TLS (SNI and the certificate check)."""

    url: httpx.URL
    addresses: tuple[str, ...]

    def request(
        self, client: httpx.AsyncClient, address: str, body: bytes, headers: dict[str, str]
    ) -> httpx.Request:
        named = self.url.host != address
        tls_name = {"sni_hostname": self.url.host} if named and self.url.scheme == "https" else {}
        return client.build_request(
            "POST",
            self.url.copy_with(host=address),
            content=body,
            headers={**headers, "Host": self.url.netloc.decode("ascii")},
            extensions=tls_name,
        )

    async def post(
        self, client: httpx.AsyncClient, body: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """POST to the first address that accepts a connection; never follows a redirect."""
        for address in self.addresses[:-1]:
            try:
                request = self.request(client, address, body, headers)
                return await client.send(request, follow_redirects=False)
            except httpx.ConnectError:
                continue
        request = self.request(client, self.addresses[-1], body, headers)
        return await client.send(request, follow_redirects=False)


class WebhookTargets:
    def __init__(self, allowed: AllowedTargets, resolve: Resolver = system_resolver) -> None:
        self.allowed = allowed
        self.resolve = resolve

    def parsed(self, url: str) -> httpx.URL:
        """The URL, if its scheme and form may be used at all (raises :class:`TargetRefused`)."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            raise TargetRefused(f"{url[:200]!r} is not a URL") from None
        if parsed.scheme not in SCHEMES:
            raise TargetRefused(
                f"the scheme {parsed.scheme or '(none)'!r} is not allowed: webhooks are POSTed "
                "over http or https (e.g. https://hooks.example.com/tuneloop)"
            )
        if not parsed.host:
            raise TargetRefused(f"{url[:200]!r} names no host")
        return parsed

    def refusal(self, url: httpx.URL, address: IPAddress) -> str | None:
        if self.allowed.allows_address(address) or self.allowed.allows_host(url.host):
            return None
        kind = why_forbidden(address)
        if kind is None:
            return None
        named = "" if url.host == str(address) else f"{url.host} resolves to "
        return (
            f"{named}{address}, {kind}: webhooks only go to public addresses (an operator can "
            f"allow private targets with {SETTING})"
        )

    async def addresses(self, url: httpx.URL) -> list[IPAddress]:
        """The host's addresses, every one of them allowed (raises :class:`TargetRefused`)."""
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            found: list[IPAddress] = [unmapped(ipaddress.ip_address(url.host))]
        except ValueError:
            resolved = await self.resolve(url.host, port)
            found = [unmapped(ipaddress.ip_address(a.split("%", 1)[0])) for a in resolved]
        if not found:
            raise TargetUnresolved(f"the host name {url.host!r} has no address")
        for address in found:
            if (reason := self.refusal(url, address)) is not None:
                raise TargetRefused(reason)
        return found

    async def check(self, url: str) -> None:
        """For registration: raises :class:`TargetRefused` when ``url`` may not be used."""
        parsed = self.parsed(url)
        try:
            await self.addresses(parsed)
        except TargetUnresolved as exc:
            raise TargetRefused(f"{exc}; give a host name that resolves, or an address") from None

    async def destination(self, url: str) -> Destination:
        """For a delivery: the checked address to connect to (raises :class:`TargetRefused`,
        or :class:`TargetUnresolved` when the name does not resolve now)."""
        parsed = self.parsed(url)
        found = await self.addresses(parsed)
        return Destination(parsed, tuple(str(address) for address in found))


__all__ = [
    "AllowedTargets",
    "Destination",
    "TargetRefused",
    "TargetUnresolved",
    "WebhookTargets",
    "system_resolver",
    "why_forbidden",
]
