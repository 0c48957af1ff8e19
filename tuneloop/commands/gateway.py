"""Open the gateway client for one command and turn its failures into a clean exit."""

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from tuneloop.client import (
    ApiClient,
    ApiError,
    ClientConfig,
    ClientConfigError,
    GatewayUnreachable,
    load_client_config,
)
from tuneloop.commands.output import emit_json, fail, show_api_error


def open_client(config: ClientConfig) -> ApiClient:
    """The client commands use (tests replace it to talk to a fake gateway)."""
    return ApiClient(config)


@contextmanager
def gateway(as_json: bool = False) -> Iterator[ApiClient]:
    """Yield a client; an API error or an unreachable gateway prints why and exits 1."""
    try:
        config = load_client_config()
    except ClientConfigError as exc:
        raise fail(str(exc)) from None
    client = open_client(config)
    try:
        yield client
    except ApiError as exc:
        show_api_error(exc, as_json)
        raise typer.Exit(code=1) from None
    except GatewayUnreachable as exc:
        if as_json:
            emit_json({"error": {"code": "gateway_unreachable", "message": str(exc)}})
            raise typer.Exit(code=1) from None
        raise fail(str(exc)) from None
    finally:
        client.close()


__all__ = ["gateway", "open_client"]
