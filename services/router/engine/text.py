"""A row's text as its tokens arrive: what may be sent now, and where a stop sequence ends it."""

from collections.abc import Callable, Sequence


class TextTracker:
    """Decodes the whole completion at each token (exact across multi-byte pieces), and holds
    back text that could still become the start of a stop sequence."""

    def __init__(self, decode: Callable[[Sequence[int]], str], stops: tuple[str, ...]) -> None:
        self._decode = decode
        self._stops = stops
        self._holdback = max((len(s) for s in stops), default=1) - 1
        self.text = ""
        self.sent = 0
        self.stopped = False

    def add(self, tokens: Sequence[int]) -> str:
        """The new text to send after ``tokens`` (the completion so far); sets ``stopped`` when a
        stop sequence appeared (the text then ends before it)."""
        text = self._decode(tokens)
        for stop in self._stops:
            at = text.find(stop, max(0, self.sent - len(stop) + 1))
            if at != -1:
                self.stopped = True
                text = text[:at]
        self.text = text
        if self.stopped:
            return self._take(len(text))
        safe = len(text) - self._holdback
        if text.endswith("\ufffd"):  # an incomplete multi-byte character: wait for the rest
            safe = min(safe, len(text.rstrip("\ufffd")))
        return self._take(safe)

    def flush(self) -> str:
        """The rest of the text, once the row is finished."""
        return self._take(len(self.text))

    def _take(self, end: int) -> str:
        if end <= self.sent:
            return ""
        piece = self.text[self.sent : end]
        self.sent = end
        return piece


__all__ = ["TextTracker"]
