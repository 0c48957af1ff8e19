"""A completion request's body: checked once, forwarded as the client's own bytes.

The router needs only a few top-level fields (``model``, ``user``, ``stream``,
``stream_options``, the token limits, ``messages`` for capture). The body is still validated as
JSON in full (a malformed one gets OpenAI's 400, not the upstream's), by the C scanner of the
standard library, member by member, noting where each top-level value sits. The body sent
upstream is then the client's text with only ``model`` (and, for streams, ``stream_options``)
spliced in: no re-encoding of the prompt, numbers and unicode exactly as the client wrote them.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

WHITESPACE = re.compile(r"[ \t\n\r]*")
SPACES = frozenset(" \t\n\r")
_scan_value = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # the C scanner
_scan_string = json.decoder.scanstring  # type: ignore[attr-defined]
TOKEN_LIMITS = ("max_tokens", "max_completion_tokens")


class BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.status = status


@dataclass
class CompletionRequest:
    """The parsed top level of a request body, and where each value is in ``text``."""

    text: str
    values: dict[str, Any]
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return str(self.values["model"])

    @property
    def stream(self) -> bool:
        return bool(self.values.get("stream"))

    @property
    def user(self) -> str | None:
        user = self.values.get("user")
        return user if isinstance(user, str) else None

    @property
    def wants_usage(self) -> bool:
        """Whether the client itself asked for the usage chunk of a stream."""
        options = self.values.get("stream_options")
        return isinstance(options, dict) and bool(options.get("include_usage"))

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def outgoing(self, model: str) -> bytes:
        """The body for the upstream: ``model`` replaced and, for a stream, usage asked for."""
        edits: list[tuple[int, int, str]] = [(*self.spans["model"], json.dumps(model))]
        if self.stream and not self.wants_usage:
            options = self.values.get("stream_options")
            merged = {**(options if isinstance(options, dict) else {}), "include_usage": True}
            if "stream_options" in self.spans:
                edits.append((*self.spans["stream_options"], json.dumps(merged)))
            else:
                closing = self.text.rindex("}")
                edits.append((closing, closing, f', "stream_options": {json.dumps(merged)}'))
        edits.sort()
        pieces, position = [], 0
        for start, end, replacement in edits:
            pieces += [self.text[position:start], replacement]
            position = end
        pieces.append(self.text[position:])
        return "".join(pieces).encode()


def _skip(text: str, position: int) -> int:
    if text[position : position + 1] not in SPACES:
        return position  # the common case: compact JSON
    match = WHITESPACE.match(text, position)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _object_members(text: str) -> tuple[dict[str, Any], dict[str, tuple[int, int]]]:
    """The top-level object's values and their spans; raises JSONDecodeError like json.loads."""
    position = _skip(text, 0)
    if text[position : position + 1] != "{":
        json.loads(text)  # the exact error if it is not JSON at all
        raise TypeError("not an object")
    values: dict[str, Any] = {}
    spans: dict[str, tuple[int, int]] = {}
    position = _skip(text, position + 1)
    if text[position : position + 1] == "}":
        position += 1
    else:
        while True:
            if text[position : position + 1] != '"':
                raise json.JSONDecodeError(
                    "Expecting property name enclosed in double quotes", text, position
                )
            key, position = _scan_string(text, position + 1)
            position = _skip(text, position)
            if text[position : position + 1] != ":":
                raise json.JSONDecodeError("Expecting ':' delimiter", text, position)
            start = _skip(text, position + 1)
            try:
                values[key], position = _scan_value(text, start)
            except StopIteration as stop:
                raise json.JSONDecodeError("Expecting value", text, stop.value) from None
            spans[key] = (start, position)
            position = _skip(text, position)
            delimiter = text[position : position + 1]
            position = _skip(text, position + 1)
            if delimiter == "}":
                break
            if delimiter != ",":
                raise json.JSONDecodeError("Expecting ',' delimiter", text, position - 1)
    if _skip(text, position) != len(text):
        raise json.JSONDecodeError("Extra data", text, position)
    return values, spans


def parse_request(raw: bytes, max_tokens_limit: int) -> CompletionRequest:
    """Check a completion request body; raises :class:`BadRequest` with OpenAI's wording."""
    try:
        text = raw.decode()
        values, spans = _object_members(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest("The request body is not valid JSON: it is nested too deeply.") from None
    except TypeError:
        raise BadRequest("The request body must be a JSON object.") from None
    if not isinstance(values.get("model"), str) or not values["model"]:
        raise BadRequest("You must provide a model parameter.", param="model")
    for name in TOKEN_LIMITS:
        value = values.get(name)
        if value is not None and (not isinstance(value, int) or value > max_tokens_limit):
            raise BadRequest(
                f"{name} must be an integer of at most {max_tokens_limit}.", param=name
            )
    return CompletionRequest(text, values, spans)


__all__ = ["BadRequest", "CompletionRequest", "parse_request"]
