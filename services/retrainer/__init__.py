"""The retrainer service: retraining policies per model, and the runs that export, train,
evaluate offline against the serving version and start an A/B test when the candidate is
not worse."""

from services.retrainer.service import DEFINITION

__all__ = ["DEFINITION"]
