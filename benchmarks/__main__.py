"""``make bench``: run every benchmark and print the ratios against the peers."""

import asyncio
import json
import sys
from pathlib import Path

from benchmarks.messaging import run_messaging_benchmark
from benchmarks.training import run_training_benchmark

RESULTS = Path(".tuneloop/bench")


def main() -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = [asyncio.run(run_messaging_benchmark()), asyncio.run(run_training_benchmark())]
    for result in results:
        print(result.table())
        (RESULTS / f"{result.name}.json").write_text(json.dumps(result.as_dict(), indent=2))
    print(f"results written to {RESULTS}/", file=sys.stderr)


if __name__ == "__main__":
    main()
