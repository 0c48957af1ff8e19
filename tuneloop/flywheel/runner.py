"""The flywheel, step by step, against a running stack (through the gateway's public API)."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from tuneloop.flywheel import baseline, learning
from tuneloop.flywheel.client import FlywheelError, Gateway
from tuneloop.flywheel.events import Bus
from tuneloop.flywheel.experiment import (
    CONTROL,
    TREATMENT,
    Tally,
    drive_until_verdict,
    start_experiment,
    wait_for_production,
)
from tuneloop.flywheel.plan import Plan
from tuneloop.flywheel.report import Reporter
from tuneloop.flywheel.serving import Exchange, judge_all, serve_all
from tuneloop.flywheel.tickets import TicketGenerator
from tuneloop.flywheel.users import Feedback, SimulatedUsers

CAPTURE_TIMEOUT_SECONDS = 60.0
TRAINING_TIMEOUT_SECONDS = 1800.0


@dataclass
class RunRecord:
    """What the run produced, written to <home>/flywheel/last-run.json."""

    model_name: str
    base_model: str
    control_serving_name: str = ""
    live_requests: int = 0
    captured: int | None = None
    gold_stars: int = 0
    corrections: int = 0
    dataset_id: str = ""
    dataset_rows: int = 0
    job_id: str = ""
    final_loss: float | None = None
    tuned_version: int = 0
    tuned_serving_name: str = ""
    experiment_id: str = ""
    verdict: str = ""
    verdict_summary: str = ""
    promoted: bool = False
    arm_gold_rates: dict[str, float] = field(default_factory=dict)
    roi: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


class Flywheel:
    def __init__(
        self, gateway: Gateway, bus: Bus | None, plan: Plan, console: Console, home: Path
    ) -> None:
        self.gateway = gateway
        self.bus = bus
        self.plan = plan
        self.console = console
        self.home = home
        self.report = Reporter(console)
        self.users = SimulatedUsers(plan.seed, plan.correction_rate)
        self.record = RunRecord(model_name=plan.model_name, base_model=plan.base_model)

    async def run(self) -> RunRecord:
        exchanges = await self.serve_production_traffic()
        await self.check_capture(exchanges)
        await self.rate(exchanges)
        dataset = await self.export()
        job = await self.fine_tune(dataset)
        await self.register_and_deploy(job)
        view = await self.ab_test()
        await self.conclude(view)
        await self.roi()
        self.finish()
        return self.record

    async def serve_production_traffic(self) -> list[Exchange]:
        plan = self.plan
        with self.report.step("Support tickets through the router (production)") as step:
            await baseline.require_base_model(self.gateway, plan.base_model)
            serving, created = await baseline.ensure_production(
                self.gateway, plan.model_name, plan.base_model
            )
            self.record.control_serving_name = serving.serving_name
            step.info(
                f"{plan.model_name}:production is {serving.serving_name}"
                + (f" (the base model {plan.base_model}, registered now)" if created else "")
            )
            tickets = TicketGenerator(plan.seed).batch(plan.live_requests)
            pairs = [(self.users.user_id(i % 40), t) for i, t in enumerate(tickets)]
            with Progress(console=self.console, transient=True) as progress:
                task = progress.add_task("  serving tickets", total=len(pairs))
                exchanges = await serve_all(
                    self.gateway,
                    plan.model_name,
                    pairs,
                    plan.max_tokens,
                    plan.system_prompt,
                    plan.concurrency,
                    lambda _: progress.advance(task),
                )
            self.record.live_requests = len(exchanges)
            sample = exchanges[0]
            step.info(f"ticket: {sample.ticket.text}")
            step.info(f"answer: {sample.answer[:160]!r}")
            step.done(f"{len(exchanges)} tickets answered by {serving.serving_name}")
        return exchanges

    async def check_capture(self, exchanges: list[Exchange]) -> None:
        with self.report.step("Payload capture (inference.captured)") as step:
            if self.bus is None:
                step.done("not checked: no NATS URL known (set TUNELOOP_NATS_URL)")
                return
            wanted = {e.request_id for e in exchanges}
            seen = await self.bus.captured(wanted, CAPTURE_TIMEOUT_SECONDS)
            if not seen:
                raise FlywheelError(
                    "the router captured none of the requests: enable capture for this "
                    "tenant with TUNELOOP_ROUTER_CAPTURE_TENANTS=default (or `*`) when "
                    "starting `tuneloop up` (`tuneloop up --flywheel` does it)"
                )
            from contracts.events import InteractionCaptured

            stored = await self.bus.wait_until_handled(
                "exporter", InteractionCaptured, CAPTURE_TIMEOUT_SECONDS
            )
            self.record.captured = len(seen)
            step.done(
                f"{len(seen)}/{len(wanted)} requests captured (redacted) "
                f"{'and stored by the exporter' if stored else '(exporter still catching up)'}"
            )

    async def rate(self, exchanges: list[Exchange]) -> list[Feedback]:
        with self.report.step("Simulated users rate the answers (POST /v1/feedback)") as step:
            feedback = await judge_all(self.gateway, self.users, exchanges)
            gold = sum(f.score.gold_star for f in feedback)
            strict = sum(f.score.strict_json for f in feedback)
            corrections = sum(f.corrected_answer is not None for f in feedback)
            mean = sum(f.score.rating for f in feedback) / len(feedback)
            self.record.gold_stars, self.record.corrections = gold, corrections
            step.done(
                f"strict JSON {strict}/{len(feedback)}, gold stars {gold}, mean rating "
                f"{mean:.2f}, {corrections} corrected answers (each a gold example)"
            )
        return feedback

    async def export(self) -> learning.Dataset:
        with self.report.step("Export the gold-star dataset") as step:
            if self.bus is not None:
                from contracts.events import FeedbackRecorded

                await self.bus.wait_until_handled("exporter", FeedbackRecorded, 60)
            dataset = await learning.export_gold(self.gateway, self.plan)
            self.record.dataset_id = dataset.id
            self.record.dataset_rows = dataset.train_rows + dataset.test_rows
            step.done(
                f"{dataset.name} v{dataset.version} ({dataset.id}): {dataset.train_rows} train "
                f"+ {dataset.test_rows} test gold examples"
            )
        return dataset

    async def fine_tune(self, dataset: learning.Dataset) -> learning.TrainedJob:
        with self.report.step(f"Fine-tune a LoRA adapter on {self.plan.base_model}") as step:
            job = await learning.train(
                self.gateway, self.plan, dataset, self.console, TRAINING_TIMEOUT_SECONDS
            )
            self.record.job_id, self.record.final_loss = job.id, job.final_loss
            first = f"{job.first_loss:.3f} → " if job.first_loss is not None else ""
            last = f"{job.final_loss:.3f}" if job.final_loss is not None else "n/a"
            step.done(f"job {job.id} succeeded: {job.steps} steps, loss {first}{last}")
        return job

    async def register_and_deploy(self, job: learning.TrainedJob) -> None:
        plan = self.plan
        with self.report.step("Registry: register and deploy (router hot-loads it)") as step:
            version = await learning.registered_version(self.gateway, plan.model_name, job.id, 60)
            self.record.tuned_version = version["version"]
            self.record.tuned_serving_name = version["serving_name"]
            step.info(f"job.completed registered {plan.model_name} v{version['version']}")
            await learning.deploy_candidate(self.gateway, plan.model_name, version["version"])
            seconds = await learning.wait_until_served(
                self.gateway, plan.model_name, version["serving_name"], 120
            )
            step.done(
                f"{version['serving_name']} deployed as {plan.model_name}:candidate, "
                f"served {seconds:.1f}s later"
            )

    async def ab_test(self) -> dict[str, Any]:
        plan = self.plan
        record = self.record
        with self.report.step("A/B test on live traffic with feedback") as step:
            experiment = await start_experiment(
                self.gateway, plan, record.control_serving_name, record.tuned_serving_name
            )
            record.experiment_id = experiment["id"]
            step.info(
                f"{experiment['name']} ({experiment['id']}): "
                f"{CONTROL}={record.control_serving_name} vs "
                f"{TREATMENT}={record.tuned_serving_name}, 50/50, gold-star rate, "
                f"sequential test, MDE {plan.minimum_detectable_effect}, alpha 0.05, "
                f"{plan.min_units_per_arm}-{plan.max_units_per_arm} units per arm"
            )
            tally = Tally()
            with Progress(console=self.console, transient=True) as progress:
                task = progress.add_task("  live traffic", total=plan.ab_request_limit)

                def seen(exchange: Exchange, gold: bool) -> None:
                    tally.add(exchange.variant or "?", gold)
                    progress.update(
                        task,
                        advance=1,
                        description=(
                            f"  live traffic: {CONTROL} {tally.rate(CONTROL):.0%} gold of "
                            f"{tally.served[CONTROL]}, {TREATMENT} {tally.rate(TREATMENT):.0%} "
                            f"of {tally.served[TREATMENT]}"
                        ),
                    )

                view = await drive_until_verdict(
                    self.gateway, plan, experiment["id"], self.users, seen
                )
            record.arm_gold_rates = {
                arm["variant"]: (arm["total"] / arm["n"] if arm["n"] else 0.0)
                for arm in view["arms"]
            }
            step.done(
                f"{sum(tally.served.values())} live requests; evaluator's gold-star rates: "
                + ", ".join(f"{k} {v:.0%}" for k, v in record.arm_gold_rates.items())
            )
        return view

    async def conclude(self, view: dict[str, Any]) -> None:
        record = self.record
        with self.report.step("Verdict and promotion") as step:
            record.verdict, record.verdict_summary = view["verdict"], view["summary"]
            step.info(view["summary"])
            if view["verdict"] == "treatment_wins":
                record.promoted = await wait_for_production(
                    self.gateway, record.model_name, record.tuned_serving_name, 60
                )
                outcome = (
                    f"promoted: {record.model_name}:production is now {record.tuned_serving_name}"
                    if record.promoted
                    else "the evaluator asked for promotion; the registry has not moved yet"
                )
            else:
                outcome = f"not promoted: production stays {record.control_serving_name}"
            step.done(f"verdict {view['verdict']}; {outcome}")

    async def roi(self) -> None:
        record = self.record
        with self.report.step("Cost and return on investment") as step:
            report = await self.gateway.post(
                "/v1/costs/roi",
                {
                    "serving_name": record.tuned_serving_name,
                    "baseline": record.control_serving_name,
                    "base_accuracy": round(record.arm_gold_rates.get(CONTROL, 0.0), 4),
                    "tuned_accuracy": round(record.arm_gold_rates.get(TREATMENT, 0.0), 4),
                    "calls_per_month": self.plan.calls_per_month,
                    "value_per_error_usd": self.plan.value_per_error_usd,
                },
            )
            summary = await self.gateway.get("/v1/costs/summary", params={"group_by": "kind"})
            record.roi = report
            self.console.print(roi_table(report, summary))
            step.info(
                f"assumed: {self.plan.calls_per_month:,} tickets a month, "
                f"${self.plan.value_per_error_usd:g} per mistriaged ticket; accuracy is the "
                "gold-star rate each arm earned in the A/B test"
            )
            step.done(str(report["verdict"]))

    def finish(self) -> None:
        self.record.seconds = self.report.summary_seconds()
        self.console.print(self.report.summary())
        path = self.home / "flywheel" / "last-run.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self.record), indent=2, default=str))
        self.console.print(
            f"[bold green]The flywheel turned.[/] Everything above is on the dashboard: "
            f"[bold]{self.gateway.url}/[/]  (run record: {path})",
            highlight=False,
        )


def roi_table(report: dict[str, Any], summary: dict[str, Any]) -> Table:
    table = Table("", "value", title="ROI of the fine-tuned version", show_header=False)
    rows = [
        ("training cost", f"${report['training_cost_usd']}"),
        (
            "cost per call: base → tuned",
            f"${report['base_cost_per_call_usd']} → ${report['tuned_cost_per_call_usd']}",
        ),
        ("accuracy gain", str(report["accuracy_gain"])),
        ("benefit per month", f"${report['benefit_per_month_usd']}"),
        ("payback", f"{report['payback_days']} days" if report["payback_days"] else "never"),
        (f"net after {report['horizon_months']} months", f"${report['net_at_horizon_usd']}"),
        ("ROI", f"{report['roi_percent']} %" if report["roi_percent"] is not None else "n/a"),
        ("spent so far (ledger)", f"${summary.get('total_usd')}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


__all__ = ["Flywheel", "RunRecord"]
