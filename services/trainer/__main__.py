"""Run the trainer service: ``python -m services.trainer``."""

from libs.runtime import run_service
from services.trainer.service import DEFINITION

if __name__ == "__main__":
    run_service(DEFINITION)
