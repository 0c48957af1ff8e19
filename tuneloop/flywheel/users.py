"""Simulated users: each reads an answer and gives the feedback a real user would.

A good answer gets a gold star and its rating; a bad one a low rating, and some users
(a seeded share) also write the answer they expected, which becomes a gold example itself.
"""

import random
from dataclasses import dataclass
from typing import Any

from tuneloop.flywheel.scoring import Score, score
from tuneloop.flywheel.tickets import Ticket


@dataclass(frozen=True)
class Feedback:
    request_id: str
    score: Score
    corrected_answer: str | None

    def body(self) -> dict[str, Any]:
        """The ``POST /v1/feedback`` body."""
        body: dict[str, Any] = {
            "request_id": self.request_id,
            "rating": self.score.rating,
            "gold_star": self.score.gold_star,
        }
        if self.corrected_answer is not None:
            body["corrected_answer"] = self.corrected_answer
        return body


class SimulatedUsers:
    def __init__(self, seed: int, correction_rate: float) -> None:
        self.rng = random.Random(seed)
        self.correction_rate = correction_rate

    @staticmethod
    def user_id(number: int) -> str:
        return f"customer-{number:05d}"

    def judge(self, ticket: Ticket, request_id: str, answer: str) -> Feedback:
        result = score(answer, ticket)
        corrects = not result.gold_star and self.rng.random() < self.correction_rate
        return Feedback(request_id, result, ticket.expected_answer if corrects else None)


__all__ = ["Feedback", "SimulatedUsers"]
