"""The ``tuneloop`` command: start the stack, check it, manage dead letters and contracts."""

__all__: list[str] = []
