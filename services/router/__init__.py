"""The router service: OpenAI-compatible inference, split between model versions."""

from services.router.service import DEFINITION

__all__ = ["DEFINITION"]
