"""JSON lines to the service, on the process's original stdout (library output goes to stderr)."""

import json
import os
import sys
from typing import IO, Any


class Reporter:
    def __init__(self) -> None:
        self._out: IO[str] = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    def send(self, kind: str, **fields: Any) -> None:
        self._out.write(json.dumps({"kind": kind, **fields}) + "\n")
        self._out.flush()


__all__ = ["Reporter"]
