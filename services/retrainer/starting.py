"""Starting a run: at most one per policy at a time, whichever replica or person asks.

The run, its ``retraining.triggered`` event and the exporter's command are written in one
transaction, together with the policy's claim on the run (a conditional update, so two
starts at once leave exactly one run).
"""

from sqlalchemy import update
from sqlmodel import col

from contracts.envelope import utc_now
from contracts.retraining import TriggerKind
from libs.messaging import Bus, OutboxRelay, add_to_outbox
from libs.storage import Database
from services.retrainer import naming
from services.retrainer.downstream import export_command
from services.retrainer.errors import NotFound, NothingServed, RunActive
from services.retrainer.run_events import triggered_event, updated_event
from services.retrainer.served import served_version
from services.retrainer.spec import PolicySpec
from services.retrainer.tables import RetrainingPolicy, RetrainingRun


def new_run(
    policy: RetrainingPolicy,
    spec: PolicySpec,
    kind: TriggerKind,
    reason: str,
    gold_stars: int | None,
    serving_version: int,
    serving_name: str,
    serving_base_model: str,
) -> RetrainingRun:
    run_id = naming.new_run_id()
    dataset = spec.dataset(policy.model_name)
    now = utc_now()
    exporting = f"exporting {dataset} from the gold stars matching the policy's filters"
    return RetrainingRun(
        id=run_id,
        tenant=policy.tenant,
        model_name=policy.model_name,
        status="exporting",
        trigger=kind,
        reason=reason,
        summary=exporting,
        plan=spec.model_dump(mode="json"),
        gold_stars=gold_stars,
        base_model=spec.training.base_model or serving_base_model,
        serving_alias=spec.alias,
        serving_version=serving_version,
        serving_name=serving_name,
        export_id=naming.export_id_of(run_id),
        dataset=dataset,
        job_id=naming.job_id_of(run_id),
        evaluation_id=naming.evaluation_id_of(run_id),
        experiment_id=naming.experiment_id_of(run_id),
        history=[
            {"status": "triggered", "at": now.isoformat(), "summary": reason},
            {"status": "exporting", "at": now.isoformat(), "summary": exporting},
        ],
        created_at=now,
        updated_at=now,
        stage_started_at=now,
    )


def nothing_served(model_name: str, alias: str) -> str:
    return (
        f"no version of {model_name!r} is served as {alias!r} yet, so a candidate has nothing "
        f"to be compared with; deploy one to {alias!r} first (the base model itself, "
        "registered as a version, will do)"
    )


async def start_run(
    database: Database,
    bus: Bus,
    outbox: OutboxRelay,
    policy_id: int,
    kind: TriggerKind,
    reason: str,
    gold_stars: int | None,
) -> RetrainingRun:
    """Start a run of the policy; :class:`RunActive` if one is going on already."""
    async with database.transaction() as session:
        policy = await session.get(RetrainingPolicy, policy_id)
        if policy is None:
            raise NotFound(f"no retraining policy {policy_id}")
        if policy.active_run_id is not None:
            raise RunActive(
                f"run {policy.active_run_id} of {policy.model_name!r} is going on; a policy "
                "runs one at a time"
            )
        spec = PolicySpec.model_validate(policy.spec)
        served = await served_version(session, policy.tenant, policy.model_name, spec.alias)
        if served is None:
            raise NothingServed(nothing_served(policy.model_name, spec.alias))
        run = new_run(
            policy,
            spec,
            kind,
            reason,
            gold_stars,
            served.version,
            served.serving_name,
            served.base_model,
        )
        claimed = await session.execute(
            update(RetrainingPolicy)
            .where(
                col(RetrainingPolicy.id) == policy_id,
                col(RetrainingPolicy.active_run_id).is_(None),
            )
            .values(
                active_run_id=run.id,
                last_run_id=run.id,
                runs=col(RetrainingPolicy.runs) + 1,
                gold_stars_baseline=(
                    gold_stars if gold_stars is not None else policy.gold_stars_baseline
                ),
                schedule_anchor_at=run.created_at,
                waiting_for=None,
                updated_at=run.created_at,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            raise RunActive(f"another run of {policy.model_name!r} started just now")
        session.add(run)
        add_to_outbox(session, bus, triggered_event(run))
        add_to_outbox(session, bus, updated_event(run, "triggered", run.summary))
        add_to_outbox(session, bus, export_command(run))
    outbox.notify()
    return run


__all__ = ["new_run", "nothing_served", "start_run"]
