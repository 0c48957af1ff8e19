"""Retraining policies: one per model and tenant, each change announced as an event."""

from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.retraining import RetrainingPolicyCreate, RetrainingPolicyUpdate
from contracts.envelope import utc_now
from contracts.events import RetrainingPolicyChanged
from libs.messaging import Bus, OutboxRelay, add_to_outbox
from libs.storage import Database
from services.retrainer.errors import Conflict, NotFound, RunActive
from services.retrainer.spec import PolicySpec
from services.retrainer.tables import RetrainingPolicy
from services.retrainer.triggers import trigger_words

Change = Literal["created", "updated", "enabled", "disabled", "deleted"]


def spec_of(policy: RetrainingPolicy) -> PolicySpec:
    return PolicySpec.model_validate(policy.spec)


def announce(session: AsyncSession, bus: Bus, policy: RetrainingPolicy, change: Change) -> None:
    add_to_outbox(
        session,
        bus,
        RetrainingPolicyChanged(
            tenant=policy.tenant,
            model_name=policy.model_name,
            change=change,
            enabled=policy.enabled,
            summary=f"retrain {policy.model_name} {trigger_words(spec_of(policy).trigger)}",
        ),
    )


async def locked_policy(
    session: AsyncSession, tenant: str, model_name: str, lock: bool = True
) -> RetrainingPolicy:
    statement = select(RetrainingPolicy).where(
        col(RetrainingPolicy.tenant) == tenant,
        col(RetrainingPolicy.model_name) == model_name,
    )
    if lock:
        statement = statement.with_for_update()
    policy = (await session.execute(statement)).scalars().first()
    if policy is None:
        raise NotFound(
            f"no retraining policy for {model_name!r}; create one with POST /v1/retraining/policies"
        )
    return policy


class Policies:
    def __init__(self, database: Database, bus: Bus, outbox: OutboxRelay) -> None:
        self.database = database
        self.bus = bus
        self.outbox = outbox

    async def create(self, tenant: str, body: RetrainingPolicyCreate) -> RetrainingPolicy:
        policy = RetrainingPolicy(
            tenant=tenant,
            model_name=body.model_name,
            enabled=body.enabled,
            spec=PolicySpec.of_create(body).model_dump(mode="json"),
        )
        try:
            async with self.database.transaction() as session:
                session.add(policy)
                await session.flush()
                announce(session, self.bus, policy, "created")
        except IntegrityError:
            raise Conflict(
                f"{body.model_name!r} has a retraining policy already; change it with "
                f"PATCH /v1/retraining/policies/{body.model_name}"
            ) from None
        self.outbox.notify()
        return policy

    async def update(
        self, tenant: str, model_name: str, body: RetrainingPolicyUpdate
    ) -> RetrainingPolicy:
        """Replace the sections given; a run going on keeps the plan it started with."""
        async with self.database.transaction() as session:
            policy = await locked_policy(session, tenant, model_name)
            before = spec_of(policy)
            after = before.updated(body)
            policy.spec = after.model_dump(mode="json")
            if after.export.filters != before.export.filters:
                # other examples count now: new gold stars are counted from the next count on
                policy.gold_stars_baseline = policy.gold_stars_counted = None
                policy.counted_at = None
            change: Change = "updated"
            if body.enabled is not None and body.enabled != policy.enabled:
                change = "enabled" if body.enabled else "disabled"
                self._switch(policy, body.enabled)
            policy.updated_at = utc_now()
            announce(session, self.bus, policy, change)
        self.outbox.notify()
        return policy

    async def set_enabled(self, tenant: str, model_name: str, enabled: bool) -> RetrainingPolicy:
        """Switch automatic runs on or off (a run going on finishes either way)."""
        async with self.database.transaction() as session:
            policy = await locked_policy(session, tenant, model_name)
            if policy.enabled != enabled:
                self._switch(policy, enabled)
                policy.updated_at = utc_now()
                announce(session, self.bus, policy, "enabled" if enabled else "disabled")
        self.outbox.notify()
        return policy

    @staticmethod
    def _switch(policy: RetrainingPolicy, enabled: bool) -> None:
        policy.enabled = enabled
        policy.waiting_for = None if enabled else "switched off"
        if enabled:
            policy.schedule_anchor_at = utc_now()  # the schedule starts again from now

    async def delete(self, tenant: str, model_name: str) -> None:
        async with self.database.transaction() as session:
            policy = await locked_policy(session, tenant, model_name)
            if policy.active_run_id is not None:
                raise RunActive(
                    f"run {policy.active_run_id} of {model_name!r} is going on; cancel it "
                    f"(POST /v1/retraining/runs/{policy.active_run_id}/cancel) or wait for it"
                )
            announce(session, self.bus, policy, "deleted")
            await session.delete(policy)
        self.outbox.notify()

    async def get(self, tenant: str, model_name: str) -> RetrainingPolicy:
        async with self.database.session() as session:
            return await locked_policy(session, tenant, model_name, lock=False)

    async def listed(self, tenant: str) -> list[RetrainingPolicy]:
        async with self.database.session() as session:
            statement = (
                select(RetrainingPolicy)
                .where(col(RetrainingPolicy.tenant) == tenant)
                .order_by(col(RetrainingPolicy.model_name))
            )
            return list((await session.execute(statement)).scalars())

    async def idle_enabled(self) -> list[RetrainingPolicy]:
        """Every tenant's switched-on policies with no run going on: the clock's rounds."""
        async with self.database.session() as session:
            statement = select(RetrainingPolicy).where(
                col(RetrainingPolicy.enabled).is_(True),
                col(RetrainingPolicy.active_run_id).is_(None),
            )
            return list((await session.execute(statement)).scalars())

    async def counted(self, policy_id: int, gold_stars: int) -> RetrainingPolicy | None:
        """Record a count; the first one is where counting new gold stars starts."""
        async with self.database.transaction() as session:
            policy = await session.get(RetrainingPolicy, policy_id, with_for_update=True)
            if policy is None:
                return None
            policy.gold_stars_counted, policy.counted_at = gold_stars, utc_now()
            if policy.gold_stars_baseline is None:
                policy.gold_stars_baseline = gold_stars
            return policy

    async def waiting(self, policy_id: int, waiting_for: str | None) -> None:
        async with self.database.transaction() as session:
            policy = await session.get(RetrainingPolicy, policy_id, with_for_update=True)
            if policy is not None and policy.waiting_for != waiting_for:
                policy.waiting_for = waiting_for


__all__ = ["Policies", "announce", "locked_policy", "spec_of"]
