"""Run the registry service: ``python -m services.registry``."""

from libs.runtime import run_service
from services.registry.service import DEFINITION

if __name__ == "__main__":
    run_service(DEFINITION)
