"""How the router decides a direct caller's tenant (a fake gateway answers key queries)."""

import pytest

from contracts.queries import AuthenticateReply
from services.router.access import AccessDenied, KeyChecker

pytestmark = pytest.mark.unit

KEYS = {
    "tl_acme0001_secret": AuthenticateReply(
        valid=True, key_id="acme0001", tenant="acme", scopes=["infer"]
    ),
    "tl_read0001_secret": AuthenticateReply(
        valid=True, key_id="read0001", tenant="acme", scopes=["read"]
    ),
}


class FakeGateway:
    def __init__(self, up: bool = True) -> None:
        self.asked: list[str] = []
        self.up = up

    async def __call__(self, key: str) -> AuthenticateReply:
        self.asked.append(key)
        if not self.up:
            raise TimeoutError
        return KEYS.get(key, AuthenticateReply(valid=False))


async def denial(checker: KeyChecker, authorization: str | None, tenant: str | None) -> int:
    with pytest.raises(AccessDenied) as denied:
        await checker.tenant_of(authorization, tenant)
    return denied.value.status


async def test_a_key_gives_its_tenant_whatever_the_headers_say_and_is_remembered() -> None:
    gateway = FakeGateway()
    checker = KeyChecker(gateway, require_key=True)
    for _ in range(3):
        assert await checker.tenant_of("Bearer tl_acme0001_secret", "globex") == "acme"
    assert gateway.asked == ["tl_acme0001_secret"]


async def test_bad_keys_and_missing_scopes_are_refused() -> None:
    checker = KeyChecker(FakeGateway(), require_key=True)
    assert await denial(checker, "Bearer tl_nope0001_secret", None) == 401
    assert await denial(checker, "Bearer tl_read0001_secret", None) == 403
    assert await denial(checker, None, None) == 401
    assert await denial(checker, "Bearer sk-placeholder", None) == 401


async def test_the_gateways_header_is_trusted_without_a_key() -> None:
    gateway = FakeGateway()
    checker = KeyChecker(gateway, require_key=True)
    assert await checker.tenant_of(None, "acme") == "acme"
    assert gateway.asked == []


async def test_a_router_on_its_own_serves_the_default_tenant_and_ignores_sdk_placeholders() -> None:
    gateway = FakeGateway()
    checker = KeyChecker(gateway, require_key=False)
    assert await checker.tenant_of(None, None) == "default"
    assert await checker.tenant_of("Bearer unused", None) == "default"
    assert gateway.asked == []
    assert await denial(checker, "Bearer tl_nope0001_secret", None) == 401


async def test_an_unreachable_gateway_is_a_503_not_a_pass() -> None:
    checker = KeyChecker(FakeGateway(up=False), require_key=True)
    assert await denial(checker, "Bearer tl_acme0001_secret", None) == 503
