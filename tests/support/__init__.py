"""Helpers shared by tests and benchmarks: a synthetic task and greedy evaluation."""

__all__: list[str] = []
