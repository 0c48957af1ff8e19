"""Experiment statistics: samples to a decision, and a decision over a million events.

1. Samples to a decision. Seeded A/B simulations of a 30 % gold-star rate with a true lift
   equal to the minimum detectable effect (5 points) and to twice it. tuneloop's always-valid
   mSPRT looks after every 10 units per arm and stops as soon as it is sure; the peer is the
   fixed-horizon two-proportion z-test, which must wait for the planned sample size at the same
   alpha (0.05, two-sided) and power (80 %). The figure is the median units per arm at the
   decision, by the service's rule (p-value at or under alpha and the interval excluding zero);
   experiments that never decide count at the cap of three horizons.
2. A decision over 1,000,000 events. tuneloop folds each served request and its feedback into
   per-arm sums (n, sum, sum of squares) as it arrives, so deciding reads one row of sums per
   arm and runs the whole policy (SRM, guardrails, mSPRT, Holm, recommendation); the peer keeps
   one row per event and aggregates them with SQL before a chi-squared test. Both tables are
   in-memory SQLite. The figure is milliseconds from "decide now" to the verdict.
"""

import asyncio
import sqlite3
import statistics as stdlib_statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from faststream.nats import NatsBroker
from scipy import stats
from sqlalchemy import text

from benchmarks.report import Comparison
from contracts.events import ExperimentStarted, FeedbackRecorded, InferenceCompleted
from contracts.events.experiments import ExperimentArm, StoppingPolicy
from libs.messaging import Bus, OutboxRelay, Subjects
from libs.storage import Database, migrate_to_head
from services.evaluator.arms import ArmState
from services.evaluator.decision import decide
from services.evaluator.experiments import Experiments
from services.evaluator.latency import with_latency
from services.evaluator.statistics import (
    Summary,
    combine,
    look,
    mixture_variance,
    units_per_arm_for_proportions,
)

BASELINE = 0.30
MDE = 0.05
ALPHA = 0.05
PEEK_EVERY = 10
SIMULATIONS = 400
EVENTS = 1_000_000


def units_to_decision(lift: float, seed: int) -> tuple[float, float, int]:
    """Median units per arm when the mSPRT decides, share deciding for the treatment, horizon."""
    horizon = units_per_arm_for_proportions(BASELINE, MDE, ALPHA, 0.8)
    cap = 3 * horizon
    rng = np.random.default_rng(seed)
    control = np.cumsum(rng.random((SIMULATIONS, cap)) < BASELINE, axis=1)
    treatment = np.cumsum(rng.random((SIMULATIONS, cap)) < BASELINE + lift, axis=1)
    tau_squared = mixture_variance(MDE)
    stopped_at: list[float] = []
    correct = 0
    for run in range(SIMULATIONS):
        running = None
        decided = float(cap)
        for n in range(PEEK_EVERY, cap + 1, PEEK_EVERY):
            a = Summary.of_proportion(n, float(control[run, n - 1]))
            b = Summary.of_proportion(n, float(treatment[run, n - 1]))
            running = combine(running, look(a, b, "proportion", tau_squared, ALPHA))
            if running.p_value <= ALPHA and (running.ci_low > 0 or running.ci_high < 0):
                decided = float(n)
                correct += running.difference > 0
                break
        stopped_at.append(decided)
    return stdlib_statistics.median(stopped_at), correct / SIMULATIONS, horizon


def samples_comparisons() -> list[Comparison]:
    results = []
    for multiple, seed in ((1, 11), (2, 12)):
        median, power, horizon = units_to_decision(multiple * MDE, seed)
        print(
            f"  lift {multiple}x MDE: median {median:.0f} units/arm vs horizon {horizon} "
            f"({median / horizon:.2f}x); decided for the treatment in {power:.0%} of runs"
        )
        results.append(
            Comparison(
                name=f"experiment-samples-lift-{multiple}x-mde",
                metric=f"median units per arm to a decision, true lift {multiple}x the MDE",
                ours_label="tuneloop always-valid mSPRT",
                ours=median,
                peer_label="fixed-horizon z-test (alpha .05, power .8)",
                peer=float(horizon),
                higher_is_better=False,
            )
        )
    return results


def experiment() -> ExperimentStarted:
    return ExperimentStarted(
        experiment_id="bench",
        control=ExperimentArm(
            variant="control", model_name="m", version=1, serving_name="a", weight=1
        ),
        treatments=[
            ExperimentArm(variant="tuned", model_name="m", version=2, serving_name="b", weight=1)
        ],
        minimum_detectable_effect=0.01,
        stopping=StoppingPolicy(min_units_per_arm=100),
    )


def fold(outcomes: np.ndarray) -> Summary:
    """Per-event folding, as the tracker does it: one addition per event."""
    n = 0
    total = 0.0
    squares = 0.0
    for value in outcomes.tolist():
        n += 1
        total += value
        squares += value * value
    return Summary(n, total, squares)


def state(variant: str, summary: Summary) -> ArmState:
    return ArmState(
        variant=variant,
        serving_name=variant,
        requests=summary.n,
        errors=0,
        fallbacks=0,
        latency_total_ms=100.0 * summary.n,
        latency_histogram=tuple(with_latency([], 100.0)),
        metric=summary,
    )


def raw_event_table(control: np.ndarray, treatment: np.ndarray) -> sqlite3.Connection:
    """The peer's storage: one row per event, aggregated when someone asks."""
    connection = sqlite3.connect(":memory:")
    connection.execute("create table events (variant text, outcome real)")
    for variant, outcomes in (("control", control), ("tuned", treatment)):
        connection.executemany(
            "insert into events values (?, ?)", ((variant, x) for x in outcomes.tolist())
        )
    return connection


def sums_table(arms: dict[str, Summary]) -> sqlite3.Connection:
    """tuneloop's storage: one row of sums per arm, updated as events arrive."""
    connection = sqlite3.connect(":memory:")
    connection.execute("create table arms (variant text, n integer, total real, squares real)")
    connection.executemany(
        "insert into arms values (?, ?, ?, ?)",
        [(v, a.n, a.total, a.total_squares) for v, a in arms.items()],
    )
    return connection


def decision_comparison() -> Comparison:
    rng = np.random.default_rng(5)
    half = EVENTS // 2
    control = (rng.random(half) < 0.30).astype(float)
    treatment = (rng.random(half) < 0.305).astype(float)
    started = time.perf_counter()
    folded = {"control": fold(control), "tuned": fold(treatment)}
    fold_seconds = time.perf_counter() - started
    ours_db, peer_db = sums_table(folded), raw_event_table(control, treatment)

    started = time.perf_counter()
    rows = ours_db.execute("select variant, n, total, squares from arms").fetchall()
    arms = {v: state(v, Summary(n, total, squares)) for v, n, total, squares in rows}
    decision = decide(experiment(), arms, {})
    ours_seconds = time.perf_counter() - started

    started = time.perf_counter()
    grouped = peer_db.execute(
        "select variant, count(*), sum(outcome) from events group by variant order by variant"
    ).fetchall()
    (_, n_c, x_c), (_, n_t, x_t) = grouped
    stats.chi2_contingency([[x_c, n_c - x_c], [x_t, n_t - x_t]], correction=False)
    peer_seconds = time.perf_counter() - started
    print(
        f"  1M events: folding in-process {fold_seconds:.3f}s ({EVENTS / fold_seconds:,.0f}/s), "
        f"decision from sums {1000 * ours_seconds:.2f} ms (verdict {decision.verdict}), "
        f"aggregating the raw table {1000 * peer_seconds:.0f} ms"
    )
    return Comparison(
        name="experiment-decision-1m-events",
        metric="milliseconds to a decision over 1,000,000 events",
        ours_label="tuneloop per-arm sums + full policy",
        ours=1000 * ours_seconds,
        peer_label="SQL aggregate of raw events + chi-squared",
        peer=1000 * peer_seconds,
        higher_is_better=False,
    )


INGESTED_REQUESTS = 2000
INGEST_CONCURRENCY = 32
"""Events in flight, as the service's subscribers handle them (``ingest_concurrency``)."""


async def fold_all(
    experiments: Experiments, events: list[InferenceCompleted | FeedbackRecorded]
) -> None:
    """Hand every event to the evaluator with ``INGEST_CONCURRENCY`` of them in flight."""
    slots = asyncio.Semaphore(INGEST_CONCURRENCY)

    async def fold(event: InferenceCompleted | FeedbackRecorded) -> None:
        async with slots:
            if isinstance(event, InferenceCompleted):
                await experiments.record_inference(event)
            else:
                await experiments.record_feedback(event)

    await asyncio.gather(*(fold(event) for event in events))


async def ingest_comparison() -> Comparison:
    """Events per second the evaluator folds into its sums through SQLite, with its inbox
    claim and a decision, events in flight sharing transactions (group commit); the peer only
    appends each event as a raw row, one transaction each, as a plain consumer would."""
    with tempfile.TemporaryDirectory() as home:
        url = f"sqlite+aiosqlite:///{Path(home) / 'bench.db'}"
        await migrate_to_head(url)
        database = Database(url)
        bus = Bus(NatsBroker(), Subjects("bench"))
        experiments = Experiments(database, bus, OutboxRelay(database, bus), 3600.0)
        definition = experiment().model_copy(update={"experiment_id": "ingest"})
        await experiments.start(definition)
        events: list[InferenceCompleted | FeedbackRecorded] = []
        for index in range(INGESTED_REQUESTS):
            variant = "control" if index % 2 else "tuned"
            served = InferenceCompleted(
                request_id=f"r{index}",
                requested_model="m",
                serving_name=variant,
                experiment_id="ingest",
                variant=variant,
                latency_ms=100.0,
                prompt_tokens=10,
                completion_tokens=10,
            )
            events += [served, FeedbackRecorded(request_id=f"r{index}", gold_star=index % 3 == 0)]
        started = time.perf_counter()
        await fold_all(experiments, events)
        ours = len(events) / (time.perf_counter() - started)
        view = await experiments.describe("default", "ingest")
        assert sum(arm.requests for arm in view.arms) == INGESTED_REQUESTS, view.arms
        async with database.transaction() as session:
            await session.execute(text("create table raw_events (id text primary key, body text)"))
        started = time.perf_counter()
        for event in events:
            async with database.transaction() as session:
                await session.execute(
                    text("insert into raw_events values (:id, :body)"),
                    {"id": event.id, "body": event.model_dump_json()},
                )
        peer = len(events) / (time.perf_counter() - started)
        await database.dispose()
    print(f"  ingest through SQLite: {ours:,.0f} events/s folded vs {peer:,.0f} raw inserts/s")
    return Comparison(
        name="experiment-ingest-sqlite",
        metric="events per second into the experiment's statistics (SQLite)",
        ours_label=f"tuneloop sums + inbox + decision, {INGEST_CONCURRENCY} in flight",
        ours=ours,
        peer_label="raw event insert, one transaction each",
        peer=peer,
    )


def run_evaluator_benchmarks() -> list[Comparison]:
    print("evaluator benchmarks")
    return [*samples_comparisons(), decision_comparison(), asyncio.run(ingest_comparison())]


__all__ = ["run_evaluator_benchmarks"]

if __name__ == "__main__":
    for result in run_evaluator_benchmarks():
        print(result.table())
