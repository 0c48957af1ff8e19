"""Run one service as a process until SIGTERM or Ctrl-C."""

import gc
import logging
import socket
import sys

import uvicorn
import uvloop

from libs.config import INTERNAL_SECRET_FILE, ConfigurationError, load_settings
from libs.config.settings import ServiceSettings
from libs.messaging import ensure_streams, stop_broker
from libs.runtime.assembly import AssembledService, assemble
from libs.runtime.definition import ServiceDefinition
from libs.telemetry import configure_logging, configure_tracing

logger = logging.getLogger("tuneloop.runtime")


def bind_socket(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every response waits ~40 ms for a delayed ACK
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


async def start_messaging(service: AssembledService) -> None:
    connection = await service.broker.connect()
    await ensure_streams(
        connection.jetstream(),
        service.context.bus.subjects,
        service.context.settings.stream_replicas,
    )
    await service.broker.start()
    service.context.outbox.start()
    for hook in service.context.startup_hooks:
        await hook()


async def stop_messaging(service: AssembledService) -> None:
    for hook in service.context.shutdown_hooks:
        await hook()
    await service.context.outbox.stop()
    await stop_broker(service.broker)
    await service.context.database.dispose()


async def serve(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    """Connect, serve HTTP and messages, and stop cleanly on a signal."""
    service = assemble(definition, settings, configure_tracing(definition.name))
    sock = bind_socket(settings.http_host, settings.http_port)
    host, port = sock.getsockname()[:2]
    service.context.http_url = f"http://{host}:{port}"
    server = uvicorn.Server(
        uvicorn.Config(
            service.api, log_config=None, access_log=False, http="httptools", lifespan="on"
        )
    )
    await start_messaging(service)
    # what start-up built lives as long as the process: keep it out of the collector's full
    # passes, which otherwise walk all of it (a few hundred thousand objects, tens of ms
    # during which no request in flight moves)
    gc.collect()
    gc.freeze()
    logger.info("%s ready", definition.name, extra={"http_url": service.context.http_url})
    try:
        await server.serve(sockets=[sock])
    finally:
        await stop_messaging(service)
        logger.info("%s stopped", definition.name)


def run_service(definition: ServiceDefinition) -> None:
    """Entry point of ``python -m services.<name>``."""
    try:
        settings = load_settings(definition.settings)
    except ConfigurationError as exc:
        print(f"{definition.name}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(definition.name, settings.log_level, settings.log_format)
    if settings.nats_url is None:
        print(
            f"{definition.name}: TUNELOOP_NATS_URL is not set; start the stack with "
            "`tuneloop up`, or point it at a NATS server",
            file=sys.stderr,
        )
        raise SystemExit(2)
    if settings.resolved_internal_secret() is None:
        print(
            f"{definition.name}: TUNELOOP_INTERNAL_SECRET is not set (nor "
            f"{settings.home / INTERNAL_SECRET_FILE}): without it the service cannot tell the "
            "gateway's requests from forged ones; start the stack with `tuneloop up` (it "
            "generates one), or give every service and the gateway the same secret",
            file=sys.stderr,
        )
        raise SystemExit(2)
    uvloop.run(serve(definition, settings))


__all__ = ["run_service", "serve"]
