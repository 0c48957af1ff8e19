"""The training process: runs one job outside the service's event loop, reporting JSON lines.

The service starts ``python -m services.trainer.training <spec.json>``; this package is the
only place torch, transformers, TRL and PEFT are imported.
"""

from services.trainer.training.spec import TrainingSpec

__all__ = ["TrainingSpec"]
