"""Shared libraries of tuneloop, one package per job."""
