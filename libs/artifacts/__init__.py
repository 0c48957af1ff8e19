"""Immutable, sha256-addressed blobs: datasets, adapters, checkpoints."""

from libs.artifacts.directories import restore_directory, store_directory
from libs.artifacts.store import (
    ArtifactInfo,
    ArtifactNotFound,
    ArtifactStore,
    IntegrityError,
    LocalArtifactStore,
    StagedArtifact,
)

__all__ = [
    "ArtifactInfo",
    "ArtifactNotFound",
    "ArtifactStore",
    "IntegrityError",
    "LocalArtifactStore",
    "StagedArtifact",
    "restore_directory",
    "store_directory",
]
