"""Run the evaluator service: ``python -m services.evaluator``."""

from libs.runtime import run_service
from services.evaluator.service import DEFINITION

if __name__ == "__main__":
    run_service(DEFINITION)
