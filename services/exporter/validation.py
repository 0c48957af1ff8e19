"""Row-level validation of chat examples, one row at a time, with stable error codes.

The rules follow OpenAI's chat fine-tuning data checks and add length and token limits.
Every problem names its line (when the row came from a file), its field path and what to do.
Nothing here touches a database or reads a whole file.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

ROLES = ("system", "user", "assistant", "tool")
RECORD_KEYS = frozenset(
    {"messages", "tools", "functions", "parallel_tool_calls"}
    | {"rating", "gold_star", "domain", "task_type", "owner", "source", "metadata", "request_id"}
)
MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call"}
)
PLAIN_MESSAGE_KEYS = frozenset({"role", "content", "name"})
NO_SYSTEM_MESSAGE = "no system message; add one if you use one"


@dataclass(frozen=True)
class Rules:
    """Limits a row must respect; the length limits come from settings or the request."""

    min_prompt_chars: int = 10
    min_response_chars: int = 20
    context_length: int = 2048
    near_limit_fraction: float = 0.9


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    field: str | None = None
    line: int | None = None


class PlainShape(NamedTuple):
    """What the rules need to know of a plain conversation (see :func:`plain_shape`)."""

    messages: int
    prompt_chars: int
    """Characters of the user text (all user messages, each stripped)."""
    response_chars: int
    """Characters of the response (the last assistant message, stripped)."""
    system_prompt: bool


@dataclass
class Verdict:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    shape: PlainShape | None = field(default=None, compare=False)
    """The conversation's shape, when it is plain (found on the way; not part of the
    verdict)."""

    @property
    def ok(self) -> bool:
        return not self.errors


def content_text(content: Any) -> str | None:
    """The text of a message content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        if all(isinstance(p, str) for p in parts):
            return "".join(p for p in parts if isinstance(p, str))
    return None


class _Checker:
    def __init__(self, line: int | None) -> None:
        self.line = line
        self.verdict = Verdict()

    def error(self, code: str, path: str | None, message: str) -> None:
        self.verdict.errors.append(Problem(code, message, path, self.line))

    def warn(self, code: str, path: str | None, message: str) -> None:
        self.verdict.warnings.append(Problem(code, message, path, self.line))


def check_record(record: Any, rules: Rules, line: int | None = None) -> Verdict:
    """Every structural and length problem of one chat record (tokens are checked apart)."""
    plain = _plain_verdict(record, rules, line)
    return plain if plain is not None else check_every_rule(record, rules, line)


def check_every_rule(record: Any, rules: Rules, line: int | None = None) -> Verdict:
    """:func:`check_record` without its shortcut for plain records: every rule, one by one."""
    checker = _Checker(line)
    if not isinstance(record, Mapping):
        checker.error(
            "not_an_object",
            None,
            f"each row must be a JSON object with `messages`, got {type(record).__name__}",
        )
        return checker.verdict
    for key in record:
        if key not in RECORD_KEYS:
            checker.error(
                "unknown_key",
                str(key),
                f"unknown key `{key}`; allowed keys are {', '.join(sorted(RECORD_KEYS))}",
            )
    _check_extras(checker, record)
    messages = record.get("messages")
    if messages is None:
        checker.error("missing_messages", "messages", "add a `messages` list of chat messages")
        return checker.verdict
    if not isinstance(messages, list) or not messages:
        checker.error(
            "invalid_messages", "messages", "`messages` must be a non-empty list of messages"
        )
        return checker.verdict
    valid = all([_check_message(checker, index, m) for index, m in enumerate(messages)])
    if valid:
        _check_conversation(checker, messages, rules)
    return checker.verdict


def plain_shape(messages: Any) -> PlainShape | None:
    """The shape of a plain conversation; ``None`` for anything else.

    Plain: a non-empty list of dicts of ``role``, ``content`` (non-blank text) and ``name``,
    an optional system message first, then user and assistant in turn, with at least one
    answer. For those, every rule but the two length limits passes, and the only warning is
    a missing system message: the shape alone judges them (:func:`shape_exclusion`), which is
    why it is stored with each example.
    """
    if type(messages) is not list or not messages:
        return None
    expected, prompt, response, system = "user", 0, -1, False
    for index, message in enumerate(messages):
        if type(message) is not dict or not message.keys() <= PLAIN_MESSAGE_KEYS:
            return None
        content = message.get("content")
        if type(content) is not str:
            return None
        size = len(content.strip())
        role = message.get("role")
        if not size:
            return None
        if role == expected:
            if role == "user":
                prompt, expected = prompt + size, "assistant"
            else:
                response, expected = size, "user"
        elif role == "system" and index == 0:
            system = True
        else:
            return None
    if response < 0:
        return None
    return PlainShape(len(messages), prompt, response, system)


def shape_exclusion(shape: PlainShape, rules: Rules) -> str | None:
    """The code of the first error :func:`check_record` finds in a plain conversation of this
    shape under ``rules``, if any."""
    if shape.prompt_chars < rules.min_prompt_chars:
        return "prompt_too_short"
    if shape.response_chars < rules.min_response_chars:
        return "response_too_short"
    return None


def _plain_verdict(record: Any, rules: Rules, line: int | None) -> Verdict | None:
    """The verdict of a plain, valid record in one pass; ``None`` for anything else.

    Plain: a dict of known keys with valid extras and a plain conversation
    (:func:`plain_shape`), long enough. For those the rules below find no error and at most
    the warning of a missing system message; every other record goes through all the rules,
    which name each problem.
    """
    if type(record) is not dict or not record.keys() <= RECORD_KEYS:
        return None
    rating = record.get("rating")
    if rating is not None and (type(rating) is not int or not 1 <= rating <= 5):
        return None
    gold = record.get("gold_star")
    if gold is not None and type(gold) is not bool:
        return None
    tools = record.get("tools")
    metadata = record.get("metadata")
    if (tools is not None and type(tools) is not list) or (
        metadata is not None and type(metadata) is not dict
    ):
        return None
    shape = plain_shape(record.get("messages"))
    if shape is None or shape_exclusion(shape, rules) is not None:
        return None
    verdict = Verdict(shape=shape)
    if not shape.system_prompt:
        verdict.warnings.append(Problem("no_system_message", NO_SYSTEM_MESSAGE, "messages", line))
    return verdict


def _check_extras(checker: _Checker, record: Mapping[str, Any]) -> None:
    rating = record.get("rating")
    if rating is not None and (
        not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5
    ):
        checker.error("invalid_rating", "rating", f"rating must be an integer 1-5, got {rating!r}")
    gold = record.get("gold_star")
    if gold is not None and not isinstance(gold, bool):
        checker.error("invalid_gold_star", "gold_star", "gold_star must be true or false")
    tools = record.get("tools")
    if tools is not None and not isinstance(tools, list):
        checker.error("invalid_tools", "tools", "`tools` must be a list of tool definitions")
    metadata = record.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        checker.error("invalid_metadata", "metadata", "`metadata` must be a JSON object")


def _check_message(checker: _Checker, index: int, message: Any) -> bool:
    path = f"messages[{index}]"
    if not isinstance(message, Mapping):
        checker.error("message_not_an_object", path, "each message must be a JSON object")
        return False
    ok = True
    for key in message:
        if key not in MESSAGE_KEYS:
            checker.error(
                "unknown_message_key",
                f"{path}.{key}",
                f"unknown message key `{key}`; allowed: {', '.join(sorted(MESSAGE_KEYS))}",
            )
    role = message.get("role")
    if role is None:
        checker.error("missing_role", f"{path}.role", "add a `role` (system, user or assistant)")
        ok = False
    elif role not in ROLES:
        checker.error(
            "unknown_role", f"{path}.role", f"unknown role {role!r}; use one of {', '.join(ROLES)}"
        )
        ok = False
    weight = message.get("weight", 0)
    if isinstance(weight, bool) or weight not in (0, 1):
        checker.error("invalid_weight", f"{path}.weight", "`weight` must be 0 or 1")
    has_calls = bool(message.get("tool_calls") or message.get("function_call"))
    if "content" not in message:
        if not (role == "assistant" and has_calls):
            checker.error("missing_content", f"{path}.content", "add the message's `content`")
            ok = False
        return ok
    text = content_text(message["content"])
    if message["content"] is None and role == "assistant" and has_calls:
        return ok
    if text is None:
        checker.error(
            "invalid_content", f"{path}.content", "`content` must be text or a list of text parts"
        )
        return False
    if not text.strip() and not (role == "assistant" and has_calls):
        checker.error("empty_content", f"{path}.content", "the message's `content` is empty")
    return ok


def _check_conversation(checker: _Checker, messages: list[Any], rules: Rules) -> None:
    roles = [m["role"] for m in messages]
    if "assistant" not in roles:
        checker.error(
            "no_assistant_message", "messages", "add at least one `assistant` message to learn from"
        )
        return
    _check_alternation(checker, roles)
    if "system" not in roles:
        checker.warn("no_system_message", "messages", NO_SYSTEM_MESSAGE)
    _check_lengths(checker, messages, roles, rules)


def _text_length(message: Mapping[str, Any]) -> int:
    return len((content_text(message.get("content")) or "").strip())


def _check_lengths(checker: _Checker, messages: list[Any], roles: list[str], rules: Rules) -> None:
    """The user text (all user messages) and the response (the last assistant message)."""
    prompt = sum(_text_length(m) for m, role in zip(messages, roles, strict=True) if role == "user")
    if prompt < rules.min_prompt_chars:
        checker.error(
            "prompt_too_short",
            "messages",
            f"the user text has {prompt} characters; at least {rules.min_prompt_chars} are "
            "needed (TUNELOOP_EXPORTER_MIN_PROMPT_CHARS)",
        )
    last = len(roles) - 1 - roles[::-1].index("assistant")
    response = _text_length(messages[last])
    if response < rules.min_response_chars and not messages[last].get("tool_calls"):
        checker.error(
            "response_too_short",
            f"messages[{last}].content",
            f"the response has {response} characters; at least {rules.min_response_chars} "
            "are needed (TUNELOOP_EXPORTER_MIN_RESPONSE_CHARS)",
        )


def _check_alternation(checker: _Checker, roles: list[str]) -> None:
    previous = None
    for index, role in enumerate(roles):
        path = f"messages[{index}].role"
        if role == "system":
            if index != 0:
                checker.error("roles_not_alternating", path, "a system message may only come first")
                return
        elif role == "tool":
            if previous not in ("assistant", "tool"):
                checker.error(
                    "roles_not_alternating", path, "a tool message must follow an assistant call"
                )
                return
        elif role == previous or (role == "assistant" and previous in (None, "system")):
            expected = "user" if role == "assistant" else "assistant"
            checker.error(
                "roles_not_alternating",
                path,
                f"`{role}` follows `{previous or 'nothing'}`; expected `{expected}` here "
                "(user and assistant must alternate, starting with user)",
            )
            return
        elif role == "user" and previous == "tool":
            checker.error(
                "roles_not_alternating", path, "after tool results the assistant must answer"
            )
            return
        previous = role


def check_tokens(tokens: int, rules: Rules, line: int | None = None) -> Verdict:
    """The token limit of the base model: over it is an error, near it a warning."""
    verdict = Verdict()
    if tokens > rules.context_length:
        verdict.errors.append(
            Problem(
                "too_many_tokens",
                f"the row has {tokens} tokens, over the context length of "
                f"{rules.context_length}; shorten it or split the conversation",
                "messages",
                line,
            )
        )
    elif tokens > rules.context_length * rules.near_limit_fraction:
        verdict.warnings.append(
            Problem(
                "near_context_limit",
                f"the row has {tokens} tokens, close to the limit of {rules.context_length}",
                "messages",
                line,
            )
        )
    return verdict


__all__ = [
    "MESSAGE_KEYS",
    "RECORD_KEYS",
    "PlainShape",
    "Problem",
    "Rules",
    "Verdict",
    "check_every_rule",
    "check_record",
    "check_tokens",
    "content_text",
    "plain_shape",
    "shape_exclusion",
]
