"""Where webhooks may go: public http(s) only unless allowed, checked after resolving the name,
and a delivery connects to the address that was checked (fake resolver, fake receiver)."""

import ipaddress
import re

import httpx
import pytest

from services.gateway.settings import GatewaySettings
from services.gateway.webhook_targets import (
    AllowedTargets,
    TargetRefused,
    TargetUnresolved,
    WebhookTargets,
    why_forbidden,
)

pytestmark = pytest.mark.unit


class FakeDns:
    """Answers from a table the test changes between calls, as a rebinding server would."""

    def __init__(self, **table: list[str]) -> None:
        self.table = {host.replace("_", "."): addresses for host, addresses in table.items()}
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        if host not in self.table:
            raise TargetUnresolved(f"the host name {host!r} does not resolve")
        return self.table[host]


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("100.64.0.1", "not a public"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_addresses_are_told_apart(address: str, kind: str | None) -> None:
    reason = why_forbidden(ipaddress.ip_address(address))
    if kind is None:
        assert reason is None
    else:
        assert reason is not None
        assert kind in reason


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
        ("gopher://example.com/x", "scheme 'gopher' is not allowed"),
        ("ftp://example.com/x", "scheme 'ftp' is not allowed"),
        ("http://127.0.0.1:9000/hook", "127.0.0.1, a loopback address"),
        ("http://[::1]/hook", "::1, a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.0.0.5/hook", "a private address"),
        ("http://0.0.0.0:80/", "the unspecified address"),
        ("http://metadata.internal/", "metadata.internal resolves to 169.254.169.254"),
        ("http://sneaky.example.com/", "sneaky.example.com resolves to 10.9.9.9"),
        ("http://nowhere.example.com/", "'nowhere.example.com' does not resolve"),
        ("http://", "names no host"),
    ],
)
async def test_registration_refuses_with_the_reason(url: str, words: str) -> None:
    dns = FakeDns(
        metadata_internal=["169.254.169.254"],
        sneaky_example_com=["93.184.216.34", "10.9.9.9"],  # one bad address is enough
    )
    with pytest.raises(TargetRefused) as refused:
        await WebhookTargets(AllowedTargets(), dns).check(url)
    assert words in str(refused.value)
    if "scheme" not in words and "no host" not in words and "resolve" not in words:
        assert "TUNELOOP_GATEWAY_WEBHOOK_ALLOWED_TARGETS" in str(refused.value)


async def test_public_hosts_pass_and_are_resolved_on_their_port() -> None:
    dns = FakeDns(hooks_example_com=["93.184.216.34", "2606:2800:220:1::1"])
    targets = WebhookTargets(AllowedTargets(), dns)
    await targets.check("https://hooks.example.com/tuneloop")
    await targets.check("http://hooks.example.com:8080/tuneloop")
    await targets.check("http://93.184.216.34/literal-needs-no-dns")
    assert dns.asked == [("hooks.example.com", 443), ("hooks.example.com", 8080)]


async def test_the_operator_allows_networks_and_host_names() -> None:
    allowed = AllowedTargets.parse(" 127.0.0.1/32, 10.0.0.0/8,Hooks.Internal. ,::1")
    dns = FakeDns(hooks_internal=["192.168.7.7"], other_internal=["192.168.7.8"])
    targets = WebhookTargets(allowed, dns)
    await targets.check("http://127.0.0.1:9000/hook")
    await targets.check("http://[::ffff:127.0.0.1]:9000/hook")
    await targets.check("http://[::1]:9000/hook")
    await targets.check("http://10.20.30.40/hook")
    await targets.check("http://hooks.internal/hook")
    with pytest.raises(TargetRefused, match=re.escape("other.internal resolves to 192.168.7.8")):
        await targets.check("http://other.internal/hook")
    with pytest.raises(TargetRefused, match=re.escape("127.0.0.2")):
        await targets.check("http://127.0.0.2/hook")


@pytest.mark.parametrize("text", ["10.0.0.0/33", "not a host!", "http://x/"])
def test_a_mistyped_allow_list_stops_the_gateway_with_the_entry(text: str) -> None:
    with pytest.raises(ValueError, match="neither a network"):
        GatewaySettings(webhook_allowed_targets=text)


async def test_a_name_that_turns_private_after_registration_is_never_called() -> None:
    """DNS rebinding: public when registered, loopback when delivered."""
    dns = FakeDns(rebind_example_com=["93.184.216.34"])
    targets = WebhookTargets(AllowedTargets(), dns)
    await targets.check("http://rebind.example.com/hook")
    dns.table["rebind.example.com"] = ["127.0.0.1"]
    with pytest.raises(TargetRefused, match=re.escape("resolves to 127.0.0.1, a loopback address")):
        await targets.destination("http://rebind.example.com/hook")


async def test_a_delivery_connects_to_the_checked_address_keeping_the_name() -> None:
    dns = FakeDns(hooks_example_com=["93.184.216.34"])
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "http://127.0.0.1/admin"})

    destination = await WebhookTargets(AllowedTargets(), dns).destination(
        "https://hooks.example.com:8443/tuneloop?x=1"
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        response = await destination.post(client, b"{}", {"X-Tuneloop-Event-Id": "e1"})
    [request] = seen
    assert response.status_code == 302  # not followed
    assert str(request.url) == "https://93.184.216.34:8443/tuneloop?x=1"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert request.headers["x-tuneloop-event-id"] == "e1"


async def test_a_delivery_tries_the_next_checked_address_when_one_refuses() -> None:
    dns = FakeDns(localhost=["::1", "127.0.0.1"])
    tried: list[str] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        tried.append(request.url.host)
        if request.url.host == "::1":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(204)

    allowed = AllowedTargets.parse("127.0.0.0/8,::1/128")
    destination = await WebhookTargets(allowed, dns).destination("http://localhost:9000/h")
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        response = await destination.post(client, b"{}", {})
    assert response.status_code == 204
    assert tried == ["::1", "127.0.0.1"]
