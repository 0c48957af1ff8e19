"""The flywheel's generated tickets, how simulated users score answers, and their feedback."""

import json

import pytest

from contracts.api.router import FeedbackRequest
from tuneloop.flywheel.plan import FULL, QUICK, plan_for
from tuneloop.flywheel.scoring import score, strict_triage
from tuneloop.flywheel.tickets import CATEGORIES, PRIORITIES, Ticket, TicketGenerator
from tuneloop.flywheel.users import SimulatedUsers

pytestmark = pytest.mark.unit

TICKET = Ticket(
    text="Hi, I was charged twice for my EcoKettle this month. This is urgent!",
    product="EcoKettle",
    category="billing",
    priority="high",
)


def answer(**fields: str) -> str:
    return json.dumps({"category": "billing", "priority": "high", "reply": "Sorry!", **fields})


def test_the_same_seed_gives_the_same_varied_tickets() -> None:
    first = TicketGenerator(3).batch(200)
    assert first == TicketGenerator(3).batch(200)
    assert first != TicketGenerator(4).batch(200)
    assert len({t.text for t in first}) > 180
    assert {t.category for t in first} == set(CATEGORIES)
    assert {t.priority for t in first} == set(PRIORITIES)
    assert all(t.product in t.text for t in first)


def test_the_expected_answer_is_strict_json_and_earns_a_gold_star() -> None:
    for ticket in TicketGenerator(1).batch(50):
        result = score(ticket.expected_answer, ticket)
        assert (result.gold_star, result.rating) == (True, 5)
        assert strict_triage(ticket.expected_answer) is not None


@pytest.mark.parametrize(
    ("text", "rating", "gold"),
    [
        (answer(), 5, True),
        (answer(priority="low"), 4, True),
        (answer(category="shipping"), 3, False),
        (f"```json\n{answer()}\n```", 2, False),
        (f"Sure! Here is the triage: {answer()}", 2, False),
        (json.dumps({"category": "billing", "priority": "high"}), 2, False),
        (answer(extra="x"), 2, False),
        (answer(category="refunds"), 2, False),
        (answer(reply=" "), 2, False),
        ("I am sorry for the trouble with your kettle.", 1, False),
        ("", 1, False),
    ],
)
def test_scoring_is_strict(text: str, rating: int, gold: bool) -> None:
    result = score(text, TICKET)
    assert (result.rating, result.gold_star) == (rating, gold)


def test_users_correct_only_bad_answers_and_send_valid_feedback() -> None:
    users = SimulatedUsers(seed=0, correction_rate=1.0)
    good = users.judge(TICKET, "req_1", answer())
    bad = users.judge(TICKET, "req_2", "no idea")
    assert good.corrected_answer is None
    assert good.body()["gold_star"] is True
    assert bad.corrected_answer == TICKET.expected_answer
    assert (bad.body()["rating"], bad.body()["gold_star"]) == (1, False)
    for feedback in (good, bad):
        FeedbackRequest.model_validate(feedback.body())


def test_no_user_corrects_when_the_rate_is_zero() -> None:
    users = SimulatedUsers(seed=0, correction_rate=0.0)
    assert all(users.judge(TICKET, f"r{i}", "x").corrected_answer is None for i in range(20))


def test_plans() -> None:
    assert plan_for(quick=True) is QUICK
    assert plan_for(quick=False) is FULL
    assert plan_for(quick=True, base_model="/models/x").base_model == "/models/x"
    for plan in (QUICK, FULL):
        assert plan.min_units_per_arm < plan.max_units_per_arm < plan.ab_request_limit
