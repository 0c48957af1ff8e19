"""``make bench``: run every benchmark and print the ratios against the peers.

``python -m benchmarks [name ...]`` runs only the named ones.
"""

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks.cost import run_cost_benchmark
from benchmarks.engine import run_engine_benchmark
from benchmarks.evaluator import run_evaluator_benchmarks
from benchmarks.exporter import run_exporter_benchmark
from benchmarks.hot_load import run_hot_load_benchmark
from benchmarks.messaging import run_messaging_benchmark
from benchmarks.report import Comparison
from benchmarks.router import run_router_benchmark
from benchmarks.training import run_training_benchmark

RESULTS = Path(".tuneloop/bench")
BENCHMARKS: dict[str, Callable[[], list[Comparison]]] = {
    "messaging": lambda: [asyncio.run(run_messaging_benchmark())],
    "router": run_router_benchmark,
    "hot-load": run_hot_load_benchmark,
    "exporter": run_exporter_benchmark,
    "cost": lambda: [asyncio.run(run_cost_benchmark())],
    "evaluator": run_evaluator_benchmarks,
    "training": lambda: [asyncio.run(run_training_benchmark())],
    "engine": run_engine_benchmark,
}


def main() -> None:
    chosen = sys.argv[1:] or list(BENCHMARKS)
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        raise SystemExit(
            f"unknown benchmark(s) {', '.join(sorted(unknown))}; "
            f"choose from {', '.join(BENCHMARKS)}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in chosen:
        results = BENCHMARKS[name]()
        for result in results:
            print(result.table())
        (RESULTS / f"{name}.json").write_text(json.dumps([r.as_dict() for r in results], indent=2))
    print(f"results written to {RESULTS}/", file=sys.stderr)


if __name__ == "__main__":
    main()
