"""Completion request bodies: validated like ``json.loads``, forwarded as the client's bytes
with only ``model`` (and a stream's ``stream_options``) changed."""

import json

import pytest

from services.router.request_body import BadRequest, parse_request

pytestmark = pytest.mark.unit

LIMIT = 4096


def forwarded(raw: bytes, model: str = "served@1-abcdef12") -> bytes:
    return parse_request(raw, LIMIT).outgoing(model)


def test_only_the_model_changes_and_the_rest_keeps_its_bytes() -> None:
    raw = (
        b'{ "messages": [{"role": "user", "content": "caf\\u00e9 \xc3\xa9 }{"}],\n'
        b'  "model" : "support-bot", "temperature": 0.70, "seed": 12345678901234567890 }'
    )
    out = forwarded(raw)
    assert out == raw.replace(b'"support-bot"', b'"served@1-abcdef12"')
    assert json.loads(out)["model"] == "served@1-abcdef12"


def test_the_fields_the_router_reads() -> None:
    request = parse_request(
        b'{"model": "m", "user": "u-1", "stream": true, "messages": [{"role": "user"}]}', LIMIT
    )
    assert (request.model, request.user, request.stream) == ("m", "u-1", True)
    assert request.get("messages") == [{"role": "user"}]
    assert not request.wants_usage
    assert parse_request(b'{"model": "m", "user": 7}', LIMIT).user is None


def test_a_stream_asks_the_upstream_for_usage_keeping_the_clients_options() -> None:
    added = json.loads(forwarded(b'{"model": "m", "stream": true}'))
    assert added["stream_options"] == {"include_usage": True}
    merged = json.loads(
        forwarded(
            b'{"stream_options": {"continuous_usage_stats": false}, "model": "m", "stream": true}'
        )
    )
    assert merged["stream_options"] == {"continuous_usage_stats": False, "include_usage": True}
    assert merged["model"] == "served@1-abcdef12"
    asked = b'{"model": "m", "stream": true, "stream_options": {"include_usage": true}}'
    assert parse_request(asked, LIMIT).wants_usage
    assert forwarded(asked) == asked.replace(b'"m"', b'"served@1-abcdef12"')
    assert "stream_options" not in json.loads(forwarded(b'{"model": "m"}'))


def test_the_last_of_repeated_keys_counts_as_in_json_loads() -> None:
    raw = b'{"model": "first", "model": "second"}'
    assert parse_request(raw, LIMIT).model == json.loads(raw)["model"] == "second"
    assert json.loads(forwarded(raw))["model"] == "served@1-abcdef12"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{not json",
        b'{"model": "m",}',
        b'{"model": "m"} trailing',
        b'{"model": "m" "user": "u"}',
        b'{"model": "m", "messages": [}',
        b'{"model": "m"',
        b"\xff\xfe{}",
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_malformed_bodies_are_openai_400s(raw: bytes) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_request(raw, LIMIT)
    assert refused.value.status == 400
    assert "not valid JSON" in refused.value.message or "JSON object" in refused.value.message


def test_every_body_json_loads_accepts_is_accepted_alike() -> None:
    for raw in [
        b'{"model":"m"}',
        b' \n{"model" :"m" , "n":[1,2,{"a":null}] }\n ',
        b'{"model": "m", "x": NaN, "y": -1.5e3, "z": "\\"}"}',
    ]:
        assert parse_request(raw, LIMIT).values == json.loads(raw)


@pytest.mark.parametrize(
    ("raw", "param", "message"),
    [
        (b"[1, 2]", None, "must be a JSON object"),
        (b'"text"', None, "must be a JSON object"),
        (b'{"messages": []}', "model", "provide a model"),
        (b'{"model": ""}', "model", "provide a model"),
        (b'{"model": 3}', "model", "provide a model"),
        (b'{"model": "m", "max_tokens": 5000}', "max_tokens", "at most 4096"),
        (b'{"model": "m", "max_tokens": "9"}', "max_tokens", "at most 4096"),
        (b'{"model": "m", "max_completion_tokens": 4097}', "max_completion_tokens", "4096"),
    ],
)
def test_invalid_requests_name_their_parameter(raw: bytes, param: str | None, message: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_request(raw, LIMIT)
    assert refused.value.param == param
    assert message in refused.value.message
