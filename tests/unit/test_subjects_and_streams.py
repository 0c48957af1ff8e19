"""Subject and stream naming: prefixed, non-overlapping, queries outside every stream."""

import pytest

from contracts.commands import CreateJob
from contracts.envelope import Command
from contracts.events import ALL_EVENTS, JobCompleted
from libs.messaging import Subjects, stream_configs

pytestmark = pytest.mark.unit


def covers(pattern: str, subject: str) -> bool:
    """NATS wildcard match: ``*`` one token, ``>`` the rest."""
    p_tokens, s_tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(p_tokens):
        if token == ">":
            return len(s_tokens) > index
        if index >= len(s_tokens) or (token != "*" and token != s_tokens[index]):
            return False
    return len(p_tokens) == len(s_tokens)


def test_names_follow_the_prefix() -> None:
    subjects = Subjects("acme.tl")
    assert subjects.event(JobCompleted) == "acme.tl.events.job.completed"
    assert subjects.command(CreateJob) == "acme.tl.commands.trainer.job.create"
    assert subjects.health("registry") == "acme.tl.queries.registry.health"
    assert subjects.stream_of_event(JobCompleted) == "ACME_TL_EVENTS_JOB"
    assert subjects.stream_of_command(CreateJob) == "ACME_TL_COMMANDS_TRAINER"


def test_a_command_must_name_its_owner() -> None:
    class Orphan(Command):
        type: str = "orphan.do"

    with pytest.raises(TypeError, match="SERVICE"):
        Subjects().command(Orphan)


def test_every_event_lands_in_exactly_one_stream() -> None:
    subjects = Subjects()
    configs = stream_configs(subjects)
    for event in ALL_EVENTS:
        owners = [
            c.name
            for c in configs
            for pattern in c.subjects or []
            if covers(pattern, subjects.event(event))
        ]
        assert owners == [subjects.stream_of_event(event)], event


def test_queries_are_in_no_stream() -> None:
    subjects = Subjects()
    for config in stream_configs(subjects):
        for pattern in config.subjects or []:
            assert not covers(pattern, subjects.health("gateway")), config.name


def test_command_streams_are_work_queues() -> None:
    subjects = Subjects()
    config = next(
        c for c in stream_configs(subjects) if c.name == subjects.stream_of_command(CreateJob)
    )
    assert config.retention == "workqueue"
