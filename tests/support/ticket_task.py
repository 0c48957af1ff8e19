"""A synthetic task the tiny model cannot do before training: route a ticket to its team.

Each ticket mentions one keyword; the keyword decides the team. Rows are OpenAI chat JSONL.
"""

import json
import random
from typing import Any

TEAMS = {
    "billing": ("invoice", "refund", "charge", "payment"),
    "shipping": ("parcel", "delivery", "tracking", "courier"),
    "account": ("password", "login", "username", "profile"),
    "hardware": ("printer", "battery", "screen", "keyboard"),
}
TEMPLATES = (
    "Hi, my {kw} is a problem {n}.",
    "Please help with the {kw} today.",
    "Question about {kw} number {n}?",
    "The {kw} is still wrong, why?",
    "Can you check my {kw} again?",
    "Urgent: {kw} issue since yesterday.",
)
SYSTEM = "Route the ticket to one team: billing, shipping, account or hardware."


def ticket(rng: random.Random) -> tuple[str, str]:
    team = rng.choice(sorted(TEAMS))
    keyword = rng.choice(TEAMS[team])
    text = rng.choice(TEMPLATES).format(kw=keyword, n=rng.randint(1, 999))
    return text, team


def chat_row(text: str, team: str) -> dict[str, list[dict[str, str]]]:
    return {
        "messages": [
            {"role": "user", "content": text},
            {"role": "assistant", "content": team},
        ]
    }


def split(
    train: int, test: int, seed: int = 0
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Distinct train and held-out rows."""
    rng = random.Random(seed)
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    while len(rows) < train + test:
        text, team = ticket(rng)
        if text not in seen:
            seen.add(text)
            rows.append(chat_row(text, team))
    return rows[:train], rows[train:]


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


__all__ = ["SYSTEM", "TEAMS", "chat_row", "jsonl", "split"]
