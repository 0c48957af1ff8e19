"""Benchmarks of tuneloop's hot paths, each side by side with the tool a user would pick."""

__all__: list[str] = []
