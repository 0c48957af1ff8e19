"""A signed identity holds for one request only: its method, path, query and body, within the
accepted clock skew, once. A copy sent to another path or query, with another body, too late,
or a second time, is refused with a 401 that says why."""

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from libs.tenancy import DEFAULT_TENANT, Identity, IdentityRejected, IdentitySigner, Tenant, protect
from libs.tenancy.identity import BODY_DIGEST_LIMIT, NonceCache, streamed_body

pytestmark = pytest.mark.unit
SECRET = "an-internal-secret-for-unit-tests-0002"
ACME = Identity("acme", "acme0001", ("read", "train"))
NOW = 1_800_000_000
BODY = json.dumps({"model": "tiny-llama", "suffix": "a"}).encode()


def app_with(signer: IdentitySigner) -> FastAPI:
    app = FastAPI()
    protect(app, signer)

    @app.api_route("/v1/things/{thing}", methods=["POST", "PUT"])
    async def create(thing: str, request: Request, tenant: Tenant = DEFAULT_TENANT) -> Any:
        return {"thing": thing, "tenant": tenant, "body": (await request.body()).decode()}

    @app.get("/v1/things")
    async def listing(limit: int = 1, tenant: Tenant = DEFAULT_TENANT) -> Any:
        return {"limit": limit, "tenant": tenant}

    return app


def signed_post(signer: IdentitySigner, target: str, body: bytes = BODY) -> dict[str, str]:
    return {
        **signer.headers(ACME, "POST", target, body),
        "content-type": "application/json",
    }


async def send(
    signer: IdentitySigner, method: str, url: str, headers: dict[str, str], body: bytes = b""
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app_with(signer))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        return await client.request(method, url, headers=headers, content=body)


def code_of(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    return str(response.json()["error"]["code"])


async def test_the_signed_request_passes_once() -> None:
    signer = IdentitySigner(SECRET)
    headers = signed_post(signer, "/v1/things/a")
    first = await send(signer, "POST", "/v1/things/a", headers, BODY)
    assert first.status_code == 200, first.text
    assert first.json() == {"thing": "a", "tenant": "acme", "body": BODY.decode()}
    again = await send(signer, "POST", "/v1/things/a", headers, BODY)
    assert code_of(again) == "replayed_request"
    assert "played again" in again.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "url", "body", "code"),
    [
        ("POST", "/v1/things/b", BODY, "bad_identity_signature"),  # another path
        ("POST", "/v1/things/a?dry_run=true", BODY, "bad_identity_signature"),  # a query added
        ("PUT", "/v1/things/a", BODY, "bad_identity_signature"),  # another method
        ("POST", "/v1/things/a", BODY.replace(b'"a"', b'"b"'), "bad_body_digest"),
        ("POST", "/v1/things/a", BODY + b" ", "bad_body_digest"),
        ("POST", "/v1/things/a", b"", "bad_body_digest"),
    ],
)
async def test_a_tampered_request_is_refused(method: str, url: str, body: bytes, code: str) -> None:
    signer = IdentitySigner(SECRET)
    headers = signed_post(signer, "/v1/things/a")
    assert code_of(await send(signer, method, url, headers, body)) == code


async def test_the_query_is_part_of_the_signature() -> None:
    signer = IdentitySigner(SECRET)
    headers = signer.headers(ACME, "GET", "/v1/things?limit=5")
    listed = await send(signer, "GET", "/v1/things?limit=5", headers)
    assert listed.json() == {"limit": 5, "tenant": "acme"}
    headers = signer.headers(ACME, "GET", "/v1/things?limit=5")
    assert code_of(await send(signer, "GET", "/v1/things?limit=50", headers)) == (
        "bad_identity_signature"
    )
    headers = signer.headers(ACME, "GET", "/v1/things?limit=5")
    assert code_of(await send(signer, "GET", "/v1/things", headers)) == "bad_identity_signature"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"X-Tuneloop-Identity-Nonce": "0" * 32}, "bad_identity_signature"),
        ({"X-Tuneloop-Identity-Nonce": ""}, "bad_identity_signature"),
        ({"X-Tuneloop-Body-Digest": "unsigned"}, "bad_identity_signature"),
        ({"X-Tuneloop-Body-Digest": "sha256=" + "0" * 64}, "bad_identity_signature"),
    ],
)
async def test_the_nonce_and_the_body_claim_are_signed(change: dict[str, str], code: str) -> None:
    signer = IdentitySigner(SECRET)
    headers = {**signed_post(signer, "/v1/things/a"), **change}
    assert code_of(await send(signer, "POST", "/v1/things/a", headers, BODY)) == code


def test_stale_and_future_signatures_are_refused_with_a_configurable_skew() -> None:
    strict = IdentitySigner(SECRET, max_age_seconds=10)
    headers = strict.headers(ACME, "GET", "/v1/things", now=NOW)
    with pytest.raises(IdentityRejected, match="11 s old") as stale:
        strict.verify(headers, "GET", "/v1/things", now=NOW + 11)
    assert stale.value.code == "expired_identity"
    with pytest.raises(IdentityRejected, match="ahead"):
        strict.verify(
            strict.headers(ACME, "GET", "/v1/things", now=NOW), "GET", "/v1/things", NOW - 11
        )
    assert strict.verify(headers, "GET", "/v1/things", now=NOW + 10) == ACME
    lenient = IdentitySigner(SECRET, max_age_seconds=300)
    late = lenient.headers(ACME, "GET", "/v1/things", now=NOW)
    assert lenient.verify(late, "GET", "/v1/things", now=NOW + 299) == ACME


def test_a_refused_signature_does_not_use_up_its_nonce() -> None:
    signer = IdentitySigner(SECRET)
    headers = signer.headers(ACME, "GET", "/v1/things", now=NOW)
    with pytest.raises(IdentityRejected):
        signer.verify(headers, "GET", "/v1/other", now=NOW)
    assert signer.verify(headers, "GET", "/v1/things", now=NOW) == ACME
    with pytest.raises(IdentityRejected, match="received before"):
        signer.verify(headers, "GET", "/v1/things", now=NOW + 1)


def test_nonces_are_kept_for_the_skew_window_and_bounded() -> None:
    cache = NonceCache(keep_seconds=121, limit=3)
    assert cache.first_use("a", NOW)
    assert not cache.first_use("a", NOW + 120)
    assert cache.first_use("a", NOW + 122)  # long after any signature holding it expired
    for nonce in "bcd":
        assert cache.first_use(nonce, NOW + 122)
    assert len(cache) == 3  # the oldest ("a") was forgotten first
    assert cache.first_use("a", NOW + 122)


async def test_a_large_streamed_body_is_covered_by_its_length() -> None:
    signer = IdentitySigner(SECRET)
    large = b"x" * (BODY_DIGEST_LIMIT + 1)
    headers = {**signer.headers(ACME, "POST", "/v1/things/a", streamed_body(len(large)))}
    accepted = await send(signer, "POST", "/v1/things/a", headers, large)
    assert accepted.status_code == 200, accepted.text
    headers = {**signer.headers(ACME, "POST", "/v1/things/a", streamed_body(len(large)))}
    assert code_of(await send(signer, "POST", "/v1/things/a", headers, large + b"x")) == (
        "bad_body_digest"
    )
