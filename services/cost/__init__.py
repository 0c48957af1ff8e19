"""The cost service: prices training and inference, keeps the ledger and budgets, reports ROI."""

from services.cost.service import DEFINITION

__all__ = ["DEFINITION"]
