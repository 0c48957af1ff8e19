"""The trainer service: runs LoRA fine-tuning jobs and reports their progress as events."""

from services.trainer.service import DEFINITION

__all__ = ["DEFINITION"]
