"""The flywheel's task: triage a customer support ticket into strict JSON.

Tickets are generated from templates, products and issues with a seeded RNG, so a run is
reproducible and varied. The category follows from the issue, the priority from how urgent
the customer sounds; the expected answer is one compact JSON object.
"""

import json
import random
from dataclasses import dataclass

CATEGORIES = ("billing", "shipping", "account", "technical")
PRIORITIES = ("low", "medium", "high")

SYSTEM_PROMPT = (
    "You triage customer support tickets. Reply with one JSON object and nothing else, "
    'with exactly these keys: "category" (one of "billing", "shipping", "account", '
    '"technical"), "priority" ("low", "medium" or "high") and "reply" (one short sentence '
    "to the customer)."
)

SHORT_SYSTEM_PROMPT = 'Answer only JSON: {"category", "priority", "reply"}.'
"""For models with a short context (the tiny test model)."""

PRODUCTS = (
    "CloudNote Pro",
    "Acme Router X2",
    "PixelPhone 8",
    "FitBand Go",
    "HomeCam Mini",
    "StreamBox 4K",
    "EcoKettle",
    "TypeMaster keyboard",
)

ISSUES: dict[str, tuple[str, ...]] = {
    "billing": (
        "I was charged twice for my {product} this month",
        "the refund for my {product} never reached my card",
        "my invoice for the {product} shows the wrong amount",
        "I was billed for {product} after I cancelled",
        "the discount code for {product} was not applied to my payment",
    ),
    "shipping": (
        "my {product} order has not arrived after two weeks",
        "the tracking number for my {product} does not work",
        "the courier delivered my {product} to the wrong address",
        "my {product} parcel arrived damaged",
        "the delivery of my {product} keeps getting postponed",
    ),
    "account": (
        "I cannot log in to my {product} account",
        "the password reset email for {product} never comes",
        "I want to change the email address on my {product} account",
        "my {product} account was locked after too many attempts",
        "I need to delete my {product} account and data",
    ),
    "technical": (
        "my {product} keeps crashing when I open it",
        "my {product} will not connect to wifi",
        "the battery of my {product} drains within an hour",
        "the latest update broke syncing on my {product}",
        "my {product} shows an error code E42 on start",
    ),
}

URGENCY: dict[str, tuple[str, ...]] = {
    "high": (
        "This is urgent, please help right away!",
        "I need this fixed today, it is blocking my work.",
        "URGENT: please respond as soon as possible.",
    ),
    "medium": (
        "Could you look into it?",
        "Please let me know what to do.",
        "Thanks for checking.",
    ),
    "low": (
        "No rush, whenever you have time.",
        "Not urgent, just wanted to let you know.",
        "Low priority, just curious.",
    ),
}

OPENERS = ("Hi,", "Hello support,", "Hey there,", "Good morning,", "Dear team,", "")
SIGNATURES = (
    "",
    " - {name}",
    " Regards, {name}",
    " You can reach me at {email}.",
    " Call me back on {phone}.",
)
NAMES = ("Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jon")

REPLIES: dict[str, str] = {
    "billing": "Sorry about the {product} charge; we are fixing it now.",
    "shipping": "Sorry about your {product} delivery; we are on it.",
    "account": "We sent you steps to recover your {product} account.",
    "technical": "Sorry about your {product}; please try the fix we sent.",
}


@dataclass(frozen=True)
class Ticket:
    text: str
    product: str
    category: str
    priority: str

    @property
    def expected_answer(self) -> str:
        """The answer a careful agent writes: strict, compact JSON."""
        reply = REPLIES[self.category].format(product=self.product)
        return json.dumps({"category": self.category, "priority": self.priority, "reply": reply})

    def messages(self, system_prompt: str = SYSTEM_PROMPT) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": self.text},
        ]


def contact_details(rng: random.Random) -> dict[str, str]:
    name = rng.choice(NAMES)
    return {
        "name": name,
        "email": f"{name.lower()}.{rng.randint(10, 99)}@example.com",
        "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
    }


class TicketGenerator:
    """Reproducible, varied tickets: the same seed gives the same stream."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def next(self) -> Ticket:
        rng = self.rng
        category = rng.choice(CATEGORIES)
        priority = rng.choice(PRIORITIES)
        product = rng.choice(PRODUCTS)
        issue = rng.choice(ISSUES[category]).format(product=product)
        opener = rng.choice(OPENERS)
        sentence = issue[0].upper() + issue[1:] if not opener else issue
        signature = rng.choice(SIGNATURES).format(**contact_details(rng))
        text = f"{opener} {sentence}. {rng.choice(URGENCY[priority])}{signature}".strip()
        return Ticket(text=text, product=product, category=category, priority=priority)

    def batch(self, count: int) -> list[Ticket]:
        return [self.next() for _ in range(count)]


__all__ = [
    "CATEGORIES",
    "PRIORITIES",
    "SHORT_SYSTEM_PROMPT",
    "SYSTEM_PROMPT",
    "Ticket",
    "TicketGenerator",
]
