"""The identity the gateway signs and the services verify: anything else is a 401 that says why."""

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from libs.config import TuneloopSettings
from libs.tenancy import (
    DEFAULT_TENANT,
    Identity,
    IdentityRejected,
    IdentitySigner,
    SignedAs,
    Tenant,
    protect,
)

pytestmark = pytest.mark.unit
SECRET = "an-internal-secret-for-unit-tests-0001"
SIGNER = IdentitySigner(SECRET)
ACME = Identity("acme", "acme0001", ("read", "train"))
NOW = 1_800_000_000


def signed(
    identity: Identity = ACME, method: str = "GET", path: str = "/v1/files"
) -> dict[str, str]:
    return SIGNER.headers(identity, method, path, now=NOW)


def rejection(headers: dict[str, str], method: str = "GET", path: str = "/v1/files") -> str:
    with pytest.raises(IdentityRejected) as rejected:
        SIGNER.verify(headers, method, path, now=NOW + 1)
    return rejected.value.code


def test_a_signed_identity_verifies_with_its_scopes() -> None:
    assert SIGNER.verify(signed(), "GET", "/v1/files", now=NOW + 59) == ACME
    lower = {k.lower(): v for k, v in signed().items()}
    assert SIGNER.verify(lower, "get", "/v1/files", now=NOW) == ACME


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"X-Tuneloop-Tenant": "globex"}, "bad_identity_signature"),
        ({"X-Tuneloop-Scopes": "admin"}, "bad_identity_signature"),
        ({"X-Tuneloop-Key-Id": "other0001"}, "bad_identity_signature"),
        ({"X-Tuneloop-Identity-Time": str(NOW + 5)}, "bad_identity_signature"),
        ({"X-Tuneloop-Identity-Time": "soon"}, "bad_identity_signature"),
        ({"X-Tuneloop-Identity-Signature": "v1=" + "0" * 64}, "bad_identity_signature"),
        ({"X-Tuneloop-Identity-Signature": ""}, "unsigned_request"),
    ],
)
def test_a_changed_identity_is_refused(change: dict[str, str], code: str) -> None:
    assert rejection({**signed(), **change}) == code


def test_a_header_alone_claims_nothing() -> None:
    with pytest.raises(IdentityRejected, match="claims tenant 'acme'") as rejected:
        SIGNER.verify({"X-Tuneloop-Tenant": "acme"}, "GET", "/v1/files")
    assert rejected.value.code == "unsigned_request"


def test_a_signature_holds_for_its_route_and_a_minute_only() -> None:
    moved = signed(path="/v1/files")
    assert rejection(moved, path="/v1/fine_tuning/jobs") == "bad_identity_signature"
    assert rejection(signed(method="GET"), method="DELETE") == "bad_identity_signature"
    with pytest.raises(IdentityRejected, match="61 s old") as old:
        SIGNER.verify(signed(), "GET", "/v1/files", now=NOW + 61)
    assert old.value.code == "expired_identity"
    with pytest.raises(IdentityRejected, match="ahead"):
        SIGNER.verify(signed(), "GET", "/v1/files", now=NOW - 120)
    other = IdentitySigner("another-secret-of-at-least-32-chars!!")
    with pytest.raises(IdentityRejected, match="TUNELOOP_INTERNAL_SECRET"):
        other.verify(signed(), "GET", "/v1/files", now=NOW)


def test_short_secrets_and_odd_identities_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        IdentitySigner("short")
    with pytest.raises(ValueError, match="signed identity"):
        SIGNER.headers(Identity("acme\nX-Evil: 1"), "GET", "/")
    with pytest.raises(ValueError, match="at least 32"):
        TuneloopSettings(internal_secret="too-short")


def test_the_secret_comes_from_the_setting_or_the_home_directory(tmp_path: Path) -> None:
    assert TuneloopSettings(home=tmp_path).resolved_internal_secret() is None
    (tmp_path / "internal.secret").write_text("s" * 40 + "\n")
    assert TuneloopSettings(home=tmp_path).resolved_internal_secret() == "s" * 40
    given = TuneloopSettings(home=tmp_path, internal_secret="g" * 32)
    assert given.resolved_internal_secret() == "g" * 32


def app_with(signer: IdentitySigner | None) -> FastAPI:
    app = FastAPI()
    protect(app, signer)

    @app.get("/v1/things/{thing}")
    async def thing(thing: str, tenant: Tenant = DEFAULT_TENANT) -> dict[str, str]:
        return {"thing": thing, "tenant": tenant}

    return app


async def test_routes_take_the_verified_tenant_and_refuse_the_rest() -> None:
    transport = httpx.ASGITransport(app=app_with(SIGNER))
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://svc") as plain,
        httpx.AsyncClient(
            transport=transport, base_url="http://svc", auth=SignedAs(SIGNER)
        ) as as_gateway,
    ):
        acme = await as_gateway.get("/v1/things/a", headers={"X-Tuneloop-Tenant": "acme"})
        default = await as_gateway.get("/v1/things/b")
        forged = await plain.get("/v1/things/a", headers={"X-Tuneloop-Tenant": "acme"})
        bare = await plain.get("/v1/things/a")
    assert acme.json() == {"thing": "a", "tenant": "acme"}
    assert default.json() == {"thing": "b", "tenant": "default"}
    for refused in (forged, bare):
        assert refused.status_code == 401
        error = refused.json()["error"]
        assert error["code"] == "unsigned_request"
        assert error["type"] == "authentication_error"
        assert "through the gateway" in error["message"]


async def test_a_service_without_a_secret_refuses_and_says_so() -> None:
    transport = httpx.ASGITransport(app=app_with(None))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://svc", auth=SignedAs(SIGNER)
    ) as client:
        response = await client.get("/v1/things/a")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_internal_secret"
