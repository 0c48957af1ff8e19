"""The gateway: the one HTTP front door, reporting the stack's health and sending commands."""

from services.gateway.service import DEFINITION

__all__ = ["DEFINITION"]
