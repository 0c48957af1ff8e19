"""``tuneloop up`` gives the gateway and every service one internal secret: generated once into
the home directory (private), or the one the operator set."""

import stat
from pathlib import Path

import pytest

from libs.config import StackSettings
from tuneloop.stack import Stack

pytestmark = pytest.mark.unit


def started(home: Path, **settings: str) -> Stack:
    stack = Stack(StackSettings(home=home, **settings))  # type: ignore[arg-type]
    stack.home.mkdir(parents=True, exist_ok=True)
    stack._ensure_internal_secret()
    return stack


def test_the_first_run_generates_a_private_secret_that_later_runs_reuse(
    tmp_path: Path, clean_env: None
) -> None:
    first = started(tmp_path)
    kept = tmp_path / "internal.secret"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_text().strip() == first.internal_secret
    assert len(first.internal_secret) >= 32
    assert first._child_env()["TUNELOOP_INTERNAL_SECRET"] == first.internal_secret
    assert started(tmp_path).internal_secret == first.internal_secret


def test_a_secret_the_operator_set_is_passed_on_and_not_written(
    tmp_path: Path, clean_env: None
) -> None:
    stack = started(tmp_path, internal_secret="o" * 40)
    assert stack._child_env()["TUNELOOP_INTERNAL_SECRET"] == "o" * 40
    assert not (tmp_path / "internal.secret").exists()
