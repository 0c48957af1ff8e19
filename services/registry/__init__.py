"""The registry service: keeps model versions, aliases and the deployment history."""

from services.registry.service import DEFINITION

__all__ = ["DEFINITION"]
