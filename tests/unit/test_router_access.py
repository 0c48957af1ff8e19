"""How the router decides a caller's tenant: the gateway's signed identity, or a direct
caller's key (a fake gateway answers key queries)."""

import httpx
import pytest
from fastapi import Depends, FastAPI

from contracts.queries import AuthenticateReply
from libs.tenancy import Identity, IdentitySigner, SignedAs, protect
from services.router.access import AccessDenied, KeyChecker, key_id_of
from services.router.api import access_denied, request_tenant

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


async def denial(checker: KeyChecker, authorization: str | None) -> int:
    with pytest.raises(AccessDenied) as denied:
        await checker.tenant_of(authorization)
    return denied.value.status


async def test_a_key_gives_its_tenant_and_is_remembered() -> None:
    gateway = FakeGateway()
    checker = KeyChecker(gateway, require_key=True)
    for _ in range(3):
        assert await checker.tenant_of("Bearer tl_acme0001_secret") == "acme"
    assert gateway.asked == ["tl_acme0001_secret"]


async def test_bad_keys_and_missing_scopes_are_refused() -> None:
    checker = KeyChecker(FakeGateway(), require_key=True)
    assert await denial(checker, "Bearer tl_nope0001_secret") == 401
    assert await denial(checker, "Bearer tl_read0001_secret") == 403
    assert await denial(checker, None) == 401
    assert await denial(checker, "Bearer sk-placeholder") == 401


async def test_a_router_on_its_own_serves_the_default_tenant_and_ignores_sdk_placeholders() -> None:
    gateway = FakeGateway()
    checker = KeyChecker(gateway, require_key=False)
    assert await checker.tenant_of(None) == "default"
    assert await checker.tenant_of("Bearer unused") == "default"
    assert gateway.asked == []
    assert await denial(checker, "Bearer tl_nope0001_secret") == 401


async def test_an_unreachable_gateway_is_a_503_not_a_pass() -> None:
    checker = KeyChecker(FakeGateway(up=False), require_key=True)
    assert await denial(checker, "Bearer tl_acme0001_secret") == 503


SIGNER = IdentitySigner("s" * 32)


def router_like(require_key: bool) -> tuple[FastAPI, FakeGateway]:
    """The router's tenant dependency on a tiny app, as the router's process protects it."""
    gateway = FakeGateway()
    app = FastAPI()
    app.state.key_checker = KeyChecker(gateway, require_key)
    app.add_exception_handler(AccessDenied, access_denied)
    protect(app, SIGNER)

    @app.get("/v1/models")
    async def models(tenant: str = Depends(request_tenant)) -> dict[str, str]:
        return {"tenant": tenant}

    return app, gateway


@pytest.mark.parametrize("require_key", [True, False])
async def test_only_a_signed_identity_or_a_key_names_the_tenant(require_key: bool) -> None:
    app, gateway = router_like(require_key)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://router") as plain,
        httpx.AsyncClient(
            transport=transport,
            base_url="http://router",
            auth=SignedAs(SIGNER, Identity("acme", "acme0001", ("read",))),
        ) as through_gateway,
        httpx.AsyncClient(
            transport=transport,
            base_url="http://router",
            auth=SignedAs(IdentitySigner("x" * 32), Identity("acme")),
        ) as forged,
    ):
        signed = await through_gateway.get("/v1/models")
        claimed = await plain.get("/v1/models", headers={"X-Tuneloop-Tenant": "acme"})
        wrong_secret = await forged.get("/v1/models")
        keyed = await plain.get(
            "/v1/models", headers={"Authorization": "Bearer tl_acme0001_secret"}
        )
    assert signed.json() == {"tenant": "acme"}
    assert gateway.asked == ["tl_acme0001_secret"]
    assert keyed.json() == {"tenant": "acme"}
    assert (claimed.status_code, claimed.json()["error"]["code"]) == (401, "unsigned_request")
    assert (wrong_secret.status_code, wrong_secret.json()["error"]["code"]) == (
        401,
        "bad_identity_signature",
    )


async def test_a_revoked_key_is_forgotten_and_asked_about_again() -> None:
    gateway = FakeGateway()
    checker = KeyChecker(gateway, require_key=True)
    await checker.tenant_of("Bearer tl_acme0001_secret")
    await denial(checker, "Bearer tl_read0001_secret")  # remembered too (a 403)
    checker.forget("acme0001")
    for _ in range(2):
        await checker.tenant_of("Bearer tl_acme0001_secret")
        await denial(checker, "Bearer tl_read0001_secret")
    assert gateway.asked.count("tl_acme0001_secret") == 2  # asked again once, then remembered
    assert gateway.asked.count("tl_read0001_secret") == 1  # another key: still remembered


def test_the_key_id_is_read_from_a_key_of_the_gateways_shape() -> None:
    assert key_id_of("tl_abcd1234_se_cr-et") == "abcd1234"
    assert key_id_of("sk-placeholder") is None
    assert key_id_of("tl_abcd1234") is None
