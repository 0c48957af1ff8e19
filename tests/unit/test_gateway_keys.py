"""API key format, hashing and the scope each request needs."""

import pytest

from services.gateway.keys import (
    bearer_token,
    new_key,
    parse_key,
    parse_scopes,
    secret_hash,
    secret_matches,
)
from services.gateway.keystore import Caller
from services.gateway.scopes import accepted_scopes

pytestmark = pytest.mark.unit


def test_a_new_key_parses_back_to_its_id_and_secret() -> None:
    key = new_key()
    assert key.token.startswith(f"tl_{key.key_id}_")
    assert len(key.key_id) == 8
    assert parse_key(key.token) == key
    assert len(key.secret) >= 40


def test_keys_are_unique_and_only_their_hash_matches() -> None:
    first, second = new_key(), new_key()
    assert first.key_id != second.key_id
    assert first.secret != second.secret
    stored = secret_hash(first.secret)
    assert first.secret not in stored
    assert secret_matches(first.secret, stored)
    assert not secret_matches(second.secret, stored)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "tl_short_" + "a" * 40,
        "xx_abcdefgh_" + "a" * 40,
        "tl_ABCDEFGH_" + "a" * 40,
        "tl_abcdefgh_",
    ],
)
def test_malformed_keys_do_not_parse(token: str) -> None:
    assert parse_key(token) is None


def test_bearer_tokens_come_from_the_authorization_header_only() -> None:
    assert bearer_token("Bearer tl_x") == "tl_x"
    assert bearer_token("bearer  tl_x ") == "tl_x"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None


def test_scopes_parse_from_commas_or_spaces_and_unknown_ones_are_named() -> None:
    assert parse_scopes("train, read") == ("train", "read")
    assert parse_scopes("infer infer") == ("infer",)
    with pytest.raises(ValueError, match="'root'"):
        parse_scopes("read,root")
    with pytest.raises(ValueError, match="no scope"):
        parse_scopes(" ")


@pytest.mark.parametrize(
    ("method", "path", "scopes"),
    [
        ("GET", "/v1/fine_tuning/jobs", {"read"}),
        ("POST", "/v1/fine_tuning/jobs", {"train"}),
        ("POST", "/v1/fine_tuning/jobs/ftjob-1/cancel", {"train"}),
        ("POST", "/v1/files", {"train"}),
        ("DELETE", "/v1/files/file-1", {"train"}),
        ("POST", "/v1/examples", {"train"}),
        ("POST", "/v1/datasets/support/export", {"train"}),
        ("POST", "/v1/evaluations", {"train"}),
        ("POST", "/v1/registry/models/bot/deployments", {"deploy"}),
        ("POST", "/v1/registry/models/bot/aliases/production/rollback", {"deploy"}),
        ("POST", "/v1/experiments", {"deploy"}),
        ("POST", "/v1/experiments/exp-1/stop", {"deploy"}),
        ("DELETE", "/v1/models/bot:production", {"deploy"}),
        ("POST", "/v1/retraining/policies", {"deploy"}),
        ("POST", "/v1/retraining/policies/bot/disable", {"deploy"}),
        ("PATCH", "/v1/retraining/policies/bot", {"deploy"}),
        ("GET", "/v1/retraining/runs", {"read"}),
        ("POST", "/v1/chat/completions", {"infer"}),
        ("POST", "/v1/completions", {"infer"}),
        ("POST", "/v1/feedback", {"infer"}),
        ("GET", "/v1/models", {"read", "infer"}),
        ("GET", "/v1/models/tiny-llama", {"read", "infer"}),
        ("POST", "/v1/costs/estimate", {"read"}),
        ("POST", "/v1/budgets/check", {"read"}),
        ("POST", "/v1/budgets", {"admin"}),
        ("PUT", "/v1/prices", {"admin"}),
        ("GET", "/v1/keys", {"admin"}),
        ("POST", "/v1/keys", {"admin"}),
        ("GET", "/v1/audit", {"admin"}),
        ("POST", "/v1/webhooks", {"admin"}),
        ("GET", "/v1/webhooks", {"admin"}),
        ("POST", "/v1/something-new", {"admin"}),
        ("GET", "/v1/me", {"admin", "train", "deploy", "infer", "read"}),
        ("POST", "/v1/me", {"admin"}),
    ],
)
def test_each_request_needs_the_scope_of_its_work(method: str, path: str, scopes: set[str]) -> None:
    assert accepted_scopes(method, path) == scopes


def test_admin_implies_every_scope_and_others_imply_nothing() -> None:
    admin = Caller("k", "t", ("admin",))
    reader = Caller("k", "t", ("read",))
    assert all(admin.allows(s) for s in ("train", "deploy", "infer", "read", "admin"))
    assert reader.allows("read")
    assert not reader.allows("train")
    assert not reader.allows("admin")
