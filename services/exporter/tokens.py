"""Counting the tokens of conversations with the base model's real tokenizer.

The chat template is applied once per role to a sentinel to learn the text it puts before
and after a message; each conversation is then rendered by concatenation and all of them are
encoded in one batch by the Rust tokenizer. A template that does more than wrap each message
(checked when loading) is applied per conversation instead: slower, equally exact.
"""

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from libs.models.registry import cached_base_model, model_context_length
from services.exporter.token_pieces import PieceCounter
from services.exporter.validation import content_text

Conversation = Sequence[dict[str, Any]]
SENTINEL = "\u2063SENTINEL\u2063"
ROLES = ("system", "user", "assistant", "tool")
CACHE_LIMIT = 100_000


class TokenCounter(Protocol):
    name: str

    def count(self, conversations: Sequence[Conversation]) -> list[int]:
        """Tokens of each conversation as the model would see it."""
        ...


def _texts(conversation: Conversation) -> list[str]:
    return [content_text(m.get("content")) or "" for m in conversation]


class ByteEstimateCounter:
    """Roughly four bytes per token; used only when no tokenizer is configured."""

    name = "estimate:4-bytes-per-token"

    def __init__(self, per_message: int = 4) -> None:
        self.per_message = per_message

    def count(self, conversations: Sequence[Conversation]) -> list[int]:
        return [
            sum((len(t.encode()) + 3) // 4 + self.per_message for t in _texts(c))
            for c in conversations
        ]


class HuggingFaceTokenCounter:
    """Counts with ``transformers.AutoTokenizer`` loaded from a local directory."""

    def __init__(self, directory: Path) -> None:
        from transformers import AutoTokenizer

        self.tokenizer: Any = AutoTokenizer.from_pretrained(str(directory))
        backend: Any = self.tokenizer.backend_tokenizer
        self._encode: Any = getattr(backend, "encode_batch_fast", backend.encode_batch)
        self.name = f"hf:{directory.name}"
        self.wrappers = self._role_wrappers()
        self._cache: dict[tuple[str, str], int] = {}
        self.message_wise = self._message_wise()
        self.pieces = PieceCounter.of(backend, self.wrappers) if self.message_wise else None

    def _render(self, conversation: Conversation) -> str:
        messages = [
            {"role": m.get("role"), "content": t}
            for m, t in zip(conversation, _texts(conversation), strict=True)
        ]
        return str(self.tokenizer.apply_chat_template(messages, tokenize=False))

    def _role_wrappers(self) -> dict[str, tuple[str, str]] | None:
        """Per role, the text the template puts around a message; ``None`` if not that simple."""
        if not getattr(self.tokenizer, "chat_template", None):
            return {role: ("", "") for role in ROLES}
        wrappers: dict[str, tuple[str, str]] = {}
        try:
            for role in ROLES:
                before, _, after = self._render([{"role": role, "content": SENTINEL}]).partition(
                    SENTINEL
                )
                wrappers[role] = (before, after)
        except Exception:
            return None
        probe = [{"role": "user", "content": "a b"}, {"role": "assistant", "content": "c d"}]
        return wrappers if self._wrapped(probe, wrappers) == self._render(probe) else None

    @staticmethod
    def _wrapped(conversation: Conversation, wrappers: dict[str, tuple[str, str]]) -> str:
        parts: list[str] = []
        for message, text in zip(conversation, _texts(conversation), strict=True):
            before, after = wrappers.get(str(message.get("role")), ("", ""))
            parts += (before, text, after)
        return "".join(parts)

    def rendered(self, conversation: Conversation) -> str:
        if self.wrappers is None:
            return self._render(conversation)
        return self._wrapped(conversation, self.wrappers)

    def _message_wise(self) -> bool:
        """Whether a conversation's count is the sum of its messages' counts.

        True for templates like ChatML whose wrappers start and end with special tokens: the
        tokenizer never merges across them, so each message can be counted (and cached) alone.
        """
        if self.wrappers is None:
            return False
        probe = [
            {"role": "system", "content": "Be brief and kind."},
            {"role": "user", "content": "a b, c d!"},
            {"role": "assistant", "content": "e f\ng h."},
        ]
        whole = self._lengths([self._wrapped(probe, self.wrappers)])[0]
        parts = self._lengths([self._wrapped([m], self.wrappers) for m in probe])
        return whole == sum(parts)

    def _lengths(self, texts: list[str]) -> list[int]:
        return [len(encoding) for encoding in self._encode(texts, add_special_tokens=False)]

    def _count_messages(self, conversations: Sequence[Conversation]) -> list[int]:
        """Sum of the messages' counts: known ones from the cache, ASCII ones word by word
        (:class:`PieceCounter`), the others encoded together in one batch. The cache keeps
        system prompts and the messages that had to be encoded."""
        assert self.wrappers is not None
        cache = self._cache
        if len(cache) > CACHE_LIMIT:
            cache.clear()
        pieces = self.pieces
        if pieces is not None:
            pieces.trim()
        totals: list[int] = []
        unknown: dict[tuple[str, str], list[int]] = {}  # message → conversations holding it
        for index, conversation in enumerate(conversations):
            total = 0
            for message in conversation:
                content = message.get("content")
                text = content if type(content) is str else (content_text(content) or "")
                key = (str(message.get("role")), text)
                count = cache.get(key)
                if count is None and pieces is not None:
                    count = pieces.count(*key)
                    if count is not None and key[0] == "system":
                        cache[key] = count  # system prompts come again; others seldom
                if count is None:
                    unknown.setdefault(key, []).append(index)
                else:
                    total += count
            totals.append(total)
        if unknown:
            texts = [self._wrapped([{"role": r, "content": t}], self.wrappers) for r, t in unknown]
            for (key, holders), count in zip(unknown.items(), self._lengths(texts), strict=True):
                cache[key] = count
                for index in holders:
                    totals[index] += count
        return totals

    def count(self, conversations: Sequence[Conversation]) -> list[int]:
        if not conversations:
            return []
        if self.message_wise:
            return self._count_messages(conversations)
        return self._lengths([self.rendered(conversation) for conversation in conversations])


class BackgroundLoadedCounter:
    """A :class:`HuggingFaceTokenCounter` loaded in a thread, so the service starts at once.

    Importing ``transformers`` and loading a tokenizer takes seconds; the first count waits
    for it, later ones do not.
    """

    def __init__(self, directory: Path) -> None:
        self.name = f"hf:{directory.name}"
        self._counter: HuggingFaceTokenCounter | None = None
        self._error: BaseException | None = None
        self._loaded = threading.Event()
        threading.Thread(
            target=self._load, args=(directory,), name="tokenizer-load", daemon=True
        ).start()

    def _load(self, directory: Path) -> None:
        try:
            self._counter = HuggingFaceTokenCounter(directory)
        except BaseException as exc:  # reported on first use
            self._error = exc
        finally:
            self._loaded.set()

    def loaded(self) -> HuggingFaceTokenCounter:
        self._loaded.wait()
        if self._counter is None:
            raise RuntimeError(f"the tokenizer {self.name} could not be loaded: {self._error}")
        return self._counter

    def count(self, conversations: Sequence[Conversation]) -> list[int]:
        return self.loaded().count(conversations)


def base_model_tokenizer(base_model: str | None, models_dir: Path) -> Path | None:
    """The directory of ``base_model`` if it is already in the models cache (never builds)."""
    if base_model is None:
        return None
    return cached_base_model(base_model, models_dir)


def load_token_counter(directory: Path | None, background: bool = False) -> TokenCounter:
    """The real tokenizer when a directory is configured, else the byte estimate."""
    if directory is None:
        return ByteEstimateCounter()
    if background:
        return BackgroundLoadedCounter(directory)
    return HuggingFaceTokenCounter(directory)


__all__ = [
    "BackgroundLoadedCounter",
    "ByteEstimateCounter",
    "Conversation",
    "HuggingFaceTokenCounter",
    "TokenCounter",
    "base_model_tokenizer",
    "load_token_counter",
    "model_context_length",
]
