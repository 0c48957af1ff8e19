"""Run the cost service: ``python -m services.cost``."""

from libs.runtime import run_service
from services.cost.service import DEFINITION

if __name__ == "__main__":
    run_service(DEFINITION)
