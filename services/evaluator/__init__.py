"""The evaluator service: evaluates models offline and runs the statistics of online experiments."""

from services.evaluator.service import DEFINITION

__all__ = ["DEFINITION"]
