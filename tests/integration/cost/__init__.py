"""The cost service against real databases and a real NATS server."""

__all__: list[str] = []
