"""Run the exporter service: ``python -m services.exporter``."""

from libs.runtime import run_service
from services.exporter.service import DEFINITION

if __name__ == "__main__":
    run_service(DEFINITION)
