"""The services of tuneloop; each runs as its own process and owns its own tables."""

__all__: list[str] = []
