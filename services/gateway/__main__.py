"""Run the gateway: ``python -m services.gateway``."""

from libs.runtime import run_service
from services.gateway.service import DEFINITION

if __name__ == "__main__":
    run_service(DEFINITION)
