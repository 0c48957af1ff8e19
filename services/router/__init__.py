"""The router service: serves OpenAI-compatible inference and splits traffic between model versions."""

from services.router.service import DEFINITION

__all__ = ["DEFINITION"]
