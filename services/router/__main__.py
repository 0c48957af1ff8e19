"""Run the router service: ``python -m services.router``."""

from libs.runtime import run_service
from services.router.service import DEFINITION

if __name__ == "__main__":
    run_service(DEFINITION)
