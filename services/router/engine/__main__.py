"""Run the embedded engine: ``python -m services.router.engine``."""

import logging
import sys

import uvicorn

from libs.config import ConfigurationError, load_settings
from libs.runtime.process import bind_socket
from libs.telemetry import configure_logging
from services.router.engine.app import create_engine_app
from services.router.engine.model import AdapterModel
from services.router.engine.scheduler import Scheduler
from services.router.engine.settings import EngineSettings

logger = logging.getLogger("tuneloop.engine")


def main() -> None:
    try:
        settings = load_settings(EngineSettings)
    except ConfigurationError as exc:
        print(f"engine: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging("engine", settings.log_level, settings.log_format)
    from libs.models import resolve_base_model

    model_dir = resolve_base_model(settings.base_model, settings.resolved_models_dir())
    model = AdapterModel(model_dir, settings.threads)
    scheduler = Scheduler(model, settings.max_batch).start()
    app = create_engine_app(scheduler, settings.base_model, settings.max_new_tokens_limit)
    sock = bind_socket(settings.http_host, settings.http_port)
    logger.info(
        "engine serving %s (up to %d requests per batch)",
        settings.base_model,
        settings.max_batch,
        extra={"http_url": f"http://{settings.http_host}:{sock.getsockname()[1]}"},
    )
    try:
        uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False)).run(sockets=[sock])
    finally:
        scheduler.stop()


if __name__ == "__main__":
    main()
