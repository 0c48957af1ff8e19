"""What every service process does around its own logic: connect, serve, report health, stop."""

from libs.runtime.context import ServiceContext, shared_part
from libs.runtime.definition import ServiceDefinition
from libs.runtime.process import run_service

__all__ = ["ServiceContext", "ServiceDefinition", "run_service", "shared_part"]
