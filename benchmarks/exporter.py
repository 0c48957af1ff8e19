"""Exporting rated examples: tuneloop's exporter vs a naive pandas script, 100k and 1M rows.

Each size is generated and loaded into a fresh SQLite database through the exporter's intake
path (the checks and token counting every API row gets, content hashes, batched inserts; the
length limits are relaxed there so the export's own validation has rows to exclude). Then it
is exported in a child process of its own, whose intake workers write it in shards as a
started service's do: filter (min rating), validate every row, reuse the token counts of the
same tokenizer, de-duplicate, split, format as OpenAI chat JSONL, write to the artifact store
with a manifest and lineage. Its peak RSS is that process's plus each worker's.
The tokenizer is a real BPE (4k tokens, trained locally on text like the benchmark's, since no
model can be downloaded here) with a ChatML template. The peer reads the same rows with
``pandas.read_sql`` and writes ``json.dumps`` per row, with no validation, dedup or split.
Figures are examples/s (load + export for tuneloop, read + write for the peer) and peak RSS.
"""

import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks.report import Comparison

SIZES = (100_000, 1_000_000)
LOAD_BATCH = 10_000
LOAD_CLIENTS = 4
CHILD_TIMEOUT_SECONDS = 900
TOPICS = ("billing", "shipping", "returns", "account")


def record(i: int) -> dict[str, Any]:
    """A realistic rated example; ~2 % exact duplicates and ~1 % with a too-short answer."""
    n = i - 1 if i % 50 == 0 else i
    answer = (
        "Ok."
        if i % 100 == 7
        else (
            f"Your order {n} left our warehouse on Monday; the tracking number is TL{n:08d} and "
            "delivery is expected within three working days. Reply here if it does not arrive."
        )
    )
    return {
        "messages": [
            {"role": "system", "content": "You are the support assistant of an online shop."},
            {"role": "user", "content": f"Hi, where is my order {n}? It has not arrived yet."},
            {"role": "assistant", "content": answer},
        ],
        "rating": 1 + n % 5,
        "gold_star": n % 11 == 0,
        "domain": TOPICS[n % len(TOPICS)],
        "task_type": "support",
    }


def tokenizer_corpus() -> list[str]:
    """Text like the benchmark's, so the BPE knows its words as a real model's would."""
    return [m["content"] for i in range(2000) for m in record(i)["messages"]]


async def load(
    database_url: str,
    size: int,
    tokenizer: Path,
    workers: int | None = None,
    clients: int = LOAD_CLIENTS,
) -> dict[str, float]:
    """Store ``size`` examples as ``POST /v1/examples`` does, from the bytes of its body on:
    parse against the contract, check, count, encode, hash, insert.

    Each body is what one request may carry (10,000 examples) and is stored in one
    transaction; ``clients`` clients send bodies concurrently, as an application's workers
    would, so the exporter's intake workers (one per core unless ``workers`` says) check some
    while this process inserts others. The intake workers are started before the clock starts
    (as a running service's are). The bodies are made before the clock starts: making them is
    the clients' work, and clients run elsewhere.
    """
    from libs.storage import Database, migrate_to_head
    from services.exporter.examples import Provenance
    from services.exporter.intake import Intake, store_examples
    from services.exporter.tokens import load_token_counter
    from services.exporter.validation import Rules

    await migrate_to_head(database_url)
    database = Database(database_url)
    rules = Rules(min_prompt_chars=0, min_response_chars=0)
    workers = (os.cpu_count() or 1) if workers is None else workers
    intake = Intake(rules, load_token_counter(tokenizer), tokenizer, workers=workers)
    if workers:
        await start_workers(database, intake)
    # as a started service does (libs.runtime.process.serve): what start-up built lives as
    # long as the process, and the collector's full passes need not walk it
    gc.collect()
    gc.freeze()
    bodies = iter(
        [
            orjson.dumps({"examples": [record(i) for i in range(start, start + LOAD_BATCH)]})
            for start in range(0, size, LOAD_BATCH)
        ]
    )
    provenance = Provenance(tenant="bench", source="bench")

    async def client() -> None:
        for body in bodies:
            stored = await store_examples(database, intake, body, provenance)
            assert len(stored.ids) == LOAD_BATCH, stored.prepared.request_errors[:3]

    pids = intake.worker_pids()
    started, cpu_started = time.perf_counter(), cpu_of(pids)
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed, cpu = time.perf_counter() - started, cpu_of(pids) - cpu_started
    await intake.close()
    await database.dispose()
    return {"seconds": elapsed, "cpu_seconds": cpu}


async def start_workers(database: Any, intake: Any) -> None:
    """Start the intake's workers with a first body (stored for another tenant)."""
    from services.exporter.examples import Provenance
    from services.exporter.intake import store_examples

    body = orjson.dumps({"examples": [record(i) for i in range(LOAD_BATCH)]})
    await store_examples(database, intake, body, Provenance(tenant="warm-up"))
    await started_pool(intake)


def cpu_of(workers: list[int]) -> float:
    """CPU seconds used so far by this process and the given worker processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = time.process_time()
    for pid in workers:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


async def export(
    database_url: str, artifacts: Path, tokenizer: Path, workers: int | None = None
) -> dict[str, Any]:
    """Export the loaded examples as a started service does: with its intake workers up
    (one per core unless ``workers`` says; 0: none), which write the export in shards."""
    from contracts.api.datasets import ExportFilters
    from libs.artifacts import LocalArtifactStore
    from libs.messaging import Bus, Subjects, create_broker
    from libs.storage import Database
    from services.exporter.export import ExportPlan, ExportTools, run_export
    from services.exporter.intake import Intake
    from services.exporter.tokens import load_token_counter
    from services.exporter.validation import Rules

    subjects = Subjects("bench")
    database = Database(database_url)
    counter = load_token_counter(tokenizer)
    tools = ExportTools(
        database=database,
        artifacts=LocalArtifactStore(artifacts),
        bus=Bus(create_broker("nats://127.0.0.1:1", subjects, max_attempts=1), subjects),
        outbox=None,
        counter=counter,
    )
    plan = ExportPlan(
        tenant="bench",
        name="bench",
        format="openai-chat-jsonl",
        filters=ExportFilters(min_rating=2),
    )
    workers = (os.cpu_count() or 1) if workers is None else workers
    intake = Intake(Rules(), counter, tokenizer, workers=workers)
    pool = await started_pool(intake) if workers else None
    gc.collect()
    gc.freeze()
    pids = intake.worker_pids()
    started, cpu_started = time.perf_counter(), cpu_of(pids)
    row = await run_export(tools, plan, workers=pool)
    elapsed, cpu = time.perf_counter() - started, cpu_of(pids) - cpu_started
    worker_rss = max((rss_mb(pid) for pid in pids), default=0.0)
    await intake.close()
    await database.dispose()
    assert row is not None
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "train": row.train_rows,
        "test": row.test_rows,
        "excluded": row.manifest["excluded"],
        "workers": len(pids),
        "worker_peak_rss_mb": worker_rss,
    }


async def started_pool(intake: Any) -> Any:
    """The intake's workers, once started."""
    intake.start_workers()
    deadline = time.monotonic() + 120
    while (pool := intake.export_workers()) is None:
        if time.monotonic() > deadline:
            raise RuntimeError("the intake workers did not start within 120 s")
        await asyncio.sleep(0.2)
    return pool


def rss_mb(pid: int) -> float:
    """Peak resident memory of a running process, in MB (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def baseline(database_path: Path, output: Path) -> dict[str, Any]:
    import sqlite3

    import pandas

    started, cpu_started = time.perf_counter(), time.process_time()
    with sqlite3.connect(database_path) as connection:
        frame = pandas.read_sql(
            "select id, messages, rating from exporter_examples where tenant = ? and rating >= ?",
            connection,
            params=("bench", 2),
        )
    with output.open("w") as out:
        for row in frame.itertuples():
            out.write(json.dumps({"messages": json.loads(row.messages)}) + "\n")
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "rows": len(frame),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, directory: Path, size: int) -> None:
    """Run one step in this process and print its figures as JSON."""
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    result: dict[str, Any]
    if mode == "load":
        result = asyncio.run(load(url, size, directory / "tokenizer"))
    elif mode == "load-in-process":
        url = f"sqlite+aiosqlite:///{directory / 'in-process.db'}"
        result = asyncio.run(load(url, size, directory / "tokenizer", workers=0, clients=1))
    elif mode == "export":
        result = asyncio.run(export(url, directory / "artifacts", directory / "tokenizer"))
    elif mode == "export-in-process":
        artifacts = directory / "artifacts-in-process"
        result = asyncio.run(export(url, artifacts, directory / "tokenizer", workers=0))
    else:
        result = baseline(directory / "bench.db", directory / "baseline.jsonl")
    print(json.dumps({**result, "peak_rss_mb": peak_rss_mb()}))


def run_child(mode: str, directory: Path, size: int) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.exporter", mode, str(directory), str(size)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark step {mode} failed:\n{completed.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def measure(size: int, in_process: bool = False) -> dict[str, Any]:
    """Figures for ``size`` examples; with ``in_process``, also of a load whose intake checks
    every body in the service process (``TUNELOOP_EXPORTER_INTAKE_WORKERS=0``), one client."""
    from tests.tokenizer_builder import build_tokenizer_dir

    with tempfile.TemporaryDirectory(prefix="tuneloop-bench-") as name:
        directory = Path(name)
        build_tokenizer_dir(directory / "tokenizer", tokenizer_corpus(), vocab_size=4096)
        loaded = run_child("load", directory, size)
        exported = run_child("export", directory, size)
        peer = run_child("baseline", directory, size)
        alone = run_child("load-in-process", directory, size) if in_process else None
        export_alone = run_child("export-in-process", directory, size) if in_process else None
    ours_seconds = loaded["seconds"] + exported["seconds"]
    return {
        "size": size,
        "load_in_process_seconds": round(alone["seconds"], 2) if alone else None,
        "load_seconds": round(loaded["seconds"], 2),
        "export_seconds": round(exported["seconds"], 2),
        "export_in_process_seconds": round(export_alone["seconds"], 2) if export_alone else None,
        "examples_per_second": size / ours_seconds,
        "export_examples_per_second": size / exported["seconds"],
        "export_peak_rss_mb": round(exported["peak_rss_mb"], 1),
        "export_worker_peak_rss_mb": round(exported["worker_peak_rss_mb"], 1),
        "export_workers": exported["workers"],
        "export_total_peak_rss_mb": round(
            exported["peak_rss_mb"] + exported["workers"] * exported["worker_peak_rss_mb"], 1
        ),
        "load_peak_rss_mb": round(loaded["peak_rss_mb"], 1),
        "load_cpu_seconds": round(loaded["cpu_seconds"], 1),
        "load_cpu_us_per_example": round(loaded["cpu_seconds"] / size * 1e6, 1),
        "export_cpu_us_per_example": round(exported["cpu_seconds"] / size * 1e6, 1),
        "load_average": os.getloadavg(),
        "export_cpu_seconds": round(exported["cpu_seconds"], 1),
        "examples_per_cpu_second": size / (loaded["cpu_seconds"] + exported["cpu_seconds"]),
        "kept": exported["train"] + exported["test"],
        "excluded": exported["excluded"],
        "peer_examples_per_second": size / peer["seconds"],
        "peer_peak_rss_mb": round(peer["peak_rss_mb"], 1),
        "peer_examples_per_cpu_second": size / peer["cpu_seconds"],
    }


def run_exporter_benchmark(sizes: tuple[int, ...] = SIZES) -> list[Comparison]:
    results = [measure(size, in_process=index == 0) for index, size in enumerate(sizes)]
    for result in results:
        print(json.dumps(result), file=sys.stderr)
    comparisons = []
    for result in results:
        size = f"{result['size']:,}"
        comparisons.append(
            Comparison(
                name=f"exporter-{result['size']}",
                metric=f"examples/s, {size} rated examples: load + filter, validate, "
                "tokens, dedup, split, format, write",
                ours_label="tuneloop exporter (load + export)",
                ours=result["examples_per_second"],
                peer_label="pandas read_sql + json.dumps per row",
                peer=result["peer_examples_per_second"],
            )
        )
        if result["load_in_process_seconds"]:
            comparisons.append(
                Comparison(
                    name=f"exporter-{result['size']}-intake-workers",
                    metric=f"examples/s loaded through the intake of POST /v1/examples, {size}",
                    ours_label="intake workers, 4 concurrent clients",
                    ours=result["size"] / result["load_seconds"],
                    peer_label="intake in the service process, 1 client",
                    peer=result["size"] / result["load_in_process_seconds"],
                )
            )
        if result["export_in_process_seconds"]:
            comparisons.append(
                Comparison(
                    name=f"exporter-{result['size']}-export-shards",
                    metric=f"examples/s exported, {size}",
                    ours_label=f"in shards by {result['export_workers']} intake workers",
                    ours=result["size"] / result["export_seconds"],
                    peer_label="in the service process",
                    peer=result["size"] / result["export_in_process_seconds"],
                )
            )
        comparisons.append(
            Comparison(
                name=f"exporter-{result['size']}-memory",
                metric=f"peak RSS in MB, {size} examples (lower is better)",
                ours_label=f"tuneloop export + its {result['export_workers']} workers",
                ours=result["export_total_peak_rss_mb"],
                peer_label="pandas read_sql + json.dumps per row",
                peer=result["peer_peak_rss_mb"],
                higher_is_better=False,
            )
        )
    return comparisons


if __name__ == "__main__":
    child(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))


__all__ = ["run_exporter_benchmark"]
