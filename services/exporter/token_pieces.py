"""Exact token counts of byte-level BPE tokenizers, word by word, with a cache of the words.

Tokenizers such as GPT-2's, Llama 3's or SmolLM2's work in fixed stages: added tokens (like
``<|im_start|>``) are split out, the rest is cut into words by the GPT-2 regex, and BPE turns
each word into tokens on its own. So a text's count is the sum of its words' counts, and words
repeat a lot: once a word is counted, counting it again is a dictionary lookup. The regex runs
in Python's ``re`` on ASCII text, where it is exactly the GPT-2 pattern (on other text, and on
text that holds an added token, :meth:`PieceCounter.count` answers ``None`` and the caller
asks the tokenizer itself).

:meth:`PieceCounter.of` accepts only tokenizers whose stages are exactly these (no normaliser,
the GPT-2 ``ByteLevel`` pre-tokeniser, BPE without dropout, added tokens that strip nothing)
and only if its counts equal the tokenizer's on a set of probes.
"""

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

WHITESPACE = "\t\n\x0b\x0c\r "
GPT2_ASCII = re.compile(
    rf"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^{WHITESPACE}A-Za-z0-9]+"
    rf"|[{WHITESPACE}]+(?![^{WHITESPACE}])|[{WHITESPACE}]+"
)
"""The GPT-2 pre-tokeniser's regex on ASCII text: ``\\p{L}`` is ``[A-Za-z]``, ``\\p{N}`` is
``[0-9]`` and ``\\s`` the six ASCII spaces there (Python's ``\\s`` would add ``\\x1c-\\x1f``)."""
CACHE_LIMIT = 200_000
LONG_NUMBER = 4
"""Pieces of text longer than this that hold a digit are not kept (see ``worth_keeping``)."""
DIGITS = frozenset("0123456789")
PROBES = (
    "Hello world! How's it going?",
    "  leading spaces,\ttabs\nand\n\n  new lines  ",
    "Order 123456 shipped on 2024-01-02; tracking TL00012345.",
    "don't won't they're we've I'm you'll he'd 'quoted' ''double''",
    "x = f(a, b) + [1, 2.5] ** 3 # comment\r\n\x0b\x0c end",
    "",
    " ",
    "\n",
    "ALL CAPS and MiXeD cAsE words___with__underscores...!!!",
)


@dataclass(frozen=True)
class Frame:
    """A role's wrapper: ``left`` + ``tail`` + message + ``head`` + ``right`` and the rest."""

    fixed: int
    left: str
    tail: str
    head: str
    right: str

    open_left: bool = False
    """Whether an added token could start in the wrapper and go on into the message."""

    apart: int | None = None
    """Tokens of ``tail`` when it is cut from a message the same way whatever the message
    starts with (besides whitespace): nothing, or one whitespace character after a word, and
    no ``head``; else ``None``."""

    def splits_alone(self, added: re.Pattern[str], text: str) -> bool:
        """Whether the only added tokens around the message are the wrapper's own: none in
        the text, none made of the text and the wrapper together."""
        framed = self.left + self.tail + text + self.head + self.right
        ends = [(0, len(self.left))] if self.left else []
        ends += [(len(framed) - len(self.right), len(framed))] if self.right else []
        return [m.span() for m in added.finditer(framed)] == ends


def single_spaced(text: str) -> bool:
    """Whether ``text`` is words separated by single spaces: no other whitespace, none at
    either end, no two spaces in a row.

    The GPT-2 regex then cuts before every space (each space starts the word after it), so the
    text's count is the sum of its first word's and of every `` word``'s (a "word" here is
    what lies between spaces, like ``order,``): each is counted once and then looked up.
    """
    return (
        text[:1] != " "
        and text[-1:] != " "
        and "  " not in text
        and "\n" not in text
        and "\t" not in text
        and "\r" not in text
        and "\x0b" not in text
        and "\x0c" not in text
    )


def worth_keeping(piece: str) -> bool:
    """Whether a counted piece of text is likely to come again: not one with a long number
    (an order, a phone number, an id), which would only crowd the cache and slow every
    lookup in it."""
    return len(piece) <= LONG_NUMBER or DIGITS.isdisjoint(piece)  # twice a regex's speed


class WordCounts(dict[str, int]):
    """Tokens per word; a word not seen yet is counted by the BPE model, and kept if it is
    worth keeping."""

    def __init__(self, tokenize: Callable[[str], list[Any]], byte_map: dict[int, str]) -> None:
        super().__init__()
        self.tokenize = tokenize
        self.byte_map = byte_map
        self.passing: dict[str, int] = {}
        """Words not worth keeping, counted since the last :meth:`forget_passing`: the same
        order number often comes back within a conversation (asked about, then answered)."""

    def __missing__(self, word: str) -> int:
        count = self.passing.get(word)
        if count is None:
            count = len(self.tokenize(word.translate(self.byte_map)))
            if worth_keeping(word):
                self[word] = count
            else:
                self.passing[word] = count
        return count

    def segment(self, text: str) -> int:
        """Tokens of ASCII text that holds no added token."""
        return sum(map(self.__getitem__, GPT2_ASCII.findall(text)))

    def forget_passing(self) -> None:
        self.passing.clear()


class ChunkCounts(dict[str, int]):
    """Tokens of ``prefix`` + a space-free piece of ASCII text; a piece not seen yet is
    counted word by word, and kept if it is worth keeping."""

    def __init__(self, words: WordCounts, prefix: str) -> None:
        super().__init__()
        self.words = words
        self.prefix = prefix

    def __missing__(self, chunk: str) -> int:
        words = self.words
        if chunk.isalpha() or chunk.isdigit():  # one word of the GPT-2 regex, with its prefix
            count = words[self.prefix + chunk]
        else:
            count = sum(map(words.__getitem__, GPT2_ASCII.findall(self.prefix + chunk)))
        if worth_keeping(chunk):
            self[chunk] = count
        return count


def _gpt2_byte_level(spec: Any) -> bool:
    return (
        isinstance(spec, dict)
        and spec.get("type") == "ByteLevel"
        and spec.get("use_regex", True) is True
        and spec.get("add_prefix_space") is False
    )


def _supported(config: dict[str, Any]) -> bool:
    normalizer = config.get("normalizer")
    if normalizer is not None and normalizer != {"type": "Sequence", "normalizers": []}:
        return False
    pre = config.get("pre_tokenizer")
    if isinstance(pre, dict) and pre.get("type") == "Sequence":
        steps = pre.get("pretokenizers") or []
        pre = steps[0] if len(steps) == 1 else None
    model = config.get("model") or {}
    return _gpt2_byte_level(pre) and model.get("type") == "BPE" and not model.get("dropout")


class PieceCounter:
    """Counts of messages wrapped by a chat template, computed word by word (see module)."""

    def __init__(
        self,
        backend: Any,
        wrappers: dict[str, tuple[str, str]],
        added: Sequence[str],
    ) -> None:
        from tokenizers import pre_tokenizers

        byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
        byte_map = {i: byte_level.pre_tokenize_str(chr(i))[0][0] for i in range(128)}
        self.words = WordCounts(backend.model.tokenize, byte_map)
        self.first = ChunkCounts(self.words, "")
        self.spaced = ChunkCounts(self.words, " ")
        ordered = sorted(added, key=len, reverse=True)
        self.tokens = ordered
        starts = "".join(sorted({re.escape(token[0]) for token in ordered}))
        self.may_hold_added = re.compile(f"[{starts}]" if starts else "(?!)").search
        """Whether a text holds the first character of an added token (a quick pre-check;
        with no added tokens, it never does)."""
        self.added = re.compile("|".join(re.escape(a) for a in ordered)) if ordered else None
        self._encode = backend.encode_batch
        self.frames: dict[str, Frame] = {}
        for role, (before, after) in wrappers.items():
            frame = self._frame(before, after)
            if frame is not None:
                self.frames[role] = frame

    def _frame(self, before: str, after: str) -> Frame | None:
        """How a message is wrapped, split where the tokenizer splits it.

        ``before`` is cut after its last added token and ``after`` before its first: the
        text between them (``tail`` + message + ``head``) is pre-tokenised as one piece, the
        rest of the wrapper counts the same for every message (``fixed``).
        """
        if not (before + after).isascii():
            return None
        left = right = ""
        tail, head = before, after
        if self.added is not None:
            found = list(self.added.finditer(before))
            if found:
                left, tail = found[-1].group(), before[found[-1].end() :]
            first = self.added.search(after)
            if first:
                right, head = first.group(), after[: first.start()]
        wrapper = len(self._encode([before + after], add_special_tokens=False)[0])
        start = left + tail
        open_left = any(
            token.startswith(start[i:]) and len(token) > len(start) - i
            for token in self.tokens
            for i in range(len(start))
        )
        apart = None
        if not head and (
            not tail or (tail[-1] in WHITESPACE and (len(tail) == 1 or tail[-2] not in WHITESPACE))
        ):
            apart = self.segment(tail)
        fixed = wrapper - self.segment(tail + head)
        return Frame(fixed, left, tail, head, right, open_left, apart)

    def segment(self, text: str) -> int:
        """Tokens of ASCII text that holds no added token."""
        return self.words.segment(text)

    def count(self, role: str, text: str) -> int | None:
        """Tokens of the message wrapped for ``role``; ``None`` if this cannot tell."""
        frame = self.frames.get(role)
        if frame is None or not text.isascii():
            return None
        if (
            self.added is not None
            and (frame.open_left or self.may_hold_added(text))
            and not frame.splits_alone(self.added, text)
        ):
            return None
        if frame.apart is not None and text and single_spaced(text):
            chunks = text.split(" ")
            rest = sum(map(self.spaced.__getitem__, chunks[1:])) if len(chunks) > 1 else 0
            return frame.fixed + frame.apart + self.first[chunks[0]] + rest
        return frame.fixed + self.segment(frame.tail + text + frame.head)

    def trim(self) -> None:
        """Forget the words if there are too many (memory stays bounded), and the passing
        ones (see :class:`WordCounts`) in any case; called before each batch."""
        self.words.forget_passing()
        for counts in (self.words, self.first, self.spaced):
            if len(counts) > CACHE_LIMIT:
                counts.clear()

    def agrees(self, wrapped: Callable[[str, str], str]) -> bool:
        """Whether every probe's count equals the tokenizer's own."""
        cases = [(role, text) for role in self.frames for text in PROBES]
        texts = [wrapped(role, text) for role, text in cases]
        real = [len(e) for e in self._encode(texts, add_special_tokens=False)]
        return all(self.count(role, text) == n for (role, text), n in zip(cases, real, strict=True))

    @classmethod
    def of(cls, backend: Any, wrappers: dict[str, tuple[str, str]] | None) -> "PieceCounter | None":
        """A counter for ``backend`` if its stages are the supported ones and it agrees."""
        if wrappers is None:
            return None
        try:
            config = json.loads(backend.to_str())
            tokens = backend.get_added_tokens_decoder().values()
        except Exception:
            return None
        if not _supported(config):
            return None
        if any(t.lstrip or t.rstrip or t.single_word for t in tokens):
            return None
        counter = cls(backend, wrappers, [t.content for t in tokens if t.content])

        def wrapped(role: str, text: str) -> str:
            before, after = wrappers[role]
            return before + text + after

        return counter if counter.frames and counter.agrees(wrapped) else None


__all__ = ["GPT2_ASCII", "PieceCounter", "single_spaced"]
