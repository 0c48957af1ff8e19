"""Money: exact decimal US dollars, written as strings in JSON (never binary floats)."""

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer


def decimal_text(value: Decimal) -> str:
    """Plain positional notation without trailing zeros: ``"0.000015"``, ``"3500"``."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


Usd = Annotated[
    Decimal,
    Field(ge=0, max_digits=28, decimal_places=12, description="US dollars, exact decimal."),
    PlainSerializer(decimal_text, return_type=str, when_used="json"),
]
"""A non-negative amount of US dollars; JSON carries it as a string such as ``"0.000015"``."""

SignedUsd = Annotated[
    Decimal,
    Field(max_digits=28, decimal_places=12, description="US dollars, exact decimal; may be < 0."),
    PlainSerializer(decimal_text, return_type=str, when_used="json"),
]
"""An amount of US dollars that may be negative (a saving, a loss); a string in JSON."""

ExactDecimal = Annotated[Decimal, PlainSerializer(decimal_text, return_type=str, when_used="json")]
"""Any exact decimal quantity (tokens, hours, percentages); a string in JSON."""

Fraction = Annotated[
    Decimal,
    Field(ge=0, le=1, max_digits=12, decimal_places=9, description="A share between 0 and 1."),
    PlainSerializer(decimal_text, return_type=str, when_used="json"),
]
"""A share between 0 and 1 (accuracy, alert threshold), exact decimal; a string in JSON."""

__all__ = ["ExactDecimal", "Fraction", "SignedUsd", "Usd", "decimal_text"]
