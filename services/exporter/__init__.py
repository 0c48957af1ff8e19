"""The exporter service: turns rated interactions into validated, versioned training datasets."""

from services.exporter.service import DEFINITION

__all__ = ["DEFINITION"]
