"""Unit tests of the cost service's pure parts."""

__all__: list[str] = []
