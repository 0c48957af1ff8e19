"""Immutable serving names: a version is never served under a name another one had."""

import hashlib


def serving_name(
    model_name: str, version: int, artifact_sha256: str | None, external_model_id: str | None
) -> str:
    """``support-bot@3-1a2b3c4d``: model, version and the first 8 hex of what is served."""
    fingerprint = artifact_sha256 or hashlib.sha256((external_model_id or "").encode()).hexdigest()
    return f"{model_name}@{version}-{fingerprint[:8]}"


__all__ = ["serving_name"]
