"""Shared libraries of tuneloop, one package per job."""

__all__: list[str] = []
