"""Command groups of the ``tuneloop`` CLI that talk to the gateway, one module per group."""

__all__: list[str] = []
