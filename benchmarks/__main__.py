"""``make bench``: run every benchmark and print the ratios against the peers.

``python -m benchmarks exporter`` (or ``messaging``) runs one of them.
"""

import asyncio
import json
import sys
from pathlib import Path

from benchmarks.exporter import run_exporter_benchmark
from benchmarks.messaging import run_messaging_benchmark
from benchmarks.report import Comparison

RESULTS = Path(".tuneloop/bench")


def selected(names: list[str]) -> list[Comparison]:
    results: list[Comparison] = []
    if not names or "messaging" in names:
        results.append(asyncio.run(run_messaging_benchmark()))
    if not names or "exporter" in names:
        results.extend(run_exporter_benchmark())
    return results


def main() -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    for result in selected(sys.argv[1:]):
        print(result.table())
        (RESULTS / f"{result.name}.json").write_text(json.dumps(result.as_dict(), indent=2))
    print(f"results written to {RESULTS}/", file=sys.stderr)


if __name__ == "__main__":
    main()
