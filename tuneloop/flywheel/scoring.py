"""How a simulated user judges an answer to a ticket: strict JSON first, then correctness.

Strict means the whole answer is one JSON object with exactly the keys ``category``,
``priority`` and ``reply`` and allowed values; JSON wrapped in prose or code fences is not.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from tuneloop.flywheel.tickets import CATEGORIES, PRIORITIES, Ticket

KEYS = {"category", "priority", "reply"}
EMBEDDED_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


@dataclass(frozen=True)
class Score:
    strict_json: bool
    category_correct: bool
    priority_correct: bool
    rating: int
    """1 no JSON object, 2 a JSON object that is not a strict triage (or is wrapped in text),
    3 strict but wrong category,
    4 right category and wrong priority, 5 both right."""

    @property
    def gold_star(self) -> bool:
        """Valid strict JSON with the right category: good enough to learn from."""
        return self.strict_json and self.category_correct


def strict_triage(text: str) -> dict[str, Any] | None:
    """The triage object if ``text`` is exactly one well-formed triage JSON object."""
    try:
        value = json.loads(text.strip())
    except ValueError:
        return None
    if not isinstance(value, dict) or set(value) != KEYS:
        return None
    reply = value["reply"]
    if value["category"] not in CATEGORIES or value["priority"] not in PRIORITIES:
        return None
    if not isinstance(reply, str) or not reply.strip():
        return None
    return value


def has_embedded_json(text: str) -> bool:
    match = EMBEDDED_OBJECT.search(text)
    if match is None:
        return False
    try:
        return isinstance(json.loads(match.group(0)), dict)
    except ValueError:
        return False


def score(answer: str, ticket: Ticket) -> Score:
    triage = strict_triage(answer)
    if triage is None:
        rating = 2 if has_embedded_json(answer) else 1
        return Score(False, False, False, rating)
    category = triage["category"] == ticket.category
    priority = triage["priority"] == ticket.priority
    rating = 3 if not category else (5 if priority else 4)
    return Score(True, category, priority, rating)


__all__ = ["Score", "score", "strict_triage"]
