"""Run the retrainer service: ``python -m services.retrainer``."""

from libs.runtime import run_service
from services.retrainer.service import DEFINITION

if __name__ == "__main__":
    run_service(DEFINITION)
