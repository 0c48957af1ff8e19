"""How a job's configuration is resolved and checked before any training starts."""

import json
from pathlib import Path

import pytest

from contracts.api.fine_tuning import CreateFineTuningJob, FineTuningMethod, SupervisedMethod
from contracts.training import Hyperparameters
from services.trainer.api import command_of
from services.trainer.files import FileProblem, summarize_chat_jsonl
from services.trainer.training.backends import select_backend
from services.trainer.training.data import check_lengths, read_chat_rows, split_validation
from services.trainer.training.errors import TrainingError
from services.trainer.training.run import make_plan
from services.trainer.training.spec import TrainingSpec

pytestmark = pytest.mark.unit

SHA = "a" * 64


def spec(tmp_path: Path, **hyperparameters: object) -> TrainingSpec:
    return TrainingSpec(
        job_id="j",
        base_model="tiny-llama",
        models_dir=tmp_path,
        train_file=tmp_path / "t",
        output_dir=tmp_path,
        hyperparameters=Hyperparameters.model_validate(hyperparameters),
    )


def test_auto_hyperparameters_resolve_from_the_dataset(tmp_path: Path) -> None:
    plan = make_plan(spec(tmp_path), train_rows=100, train_tokens=5000, max_len=256, has_eval=False)
    assert (plan.batch_size, plan.epochs, plan.total_steps) == (16, 3, 21)
    assert plan.learning_rate == pytest.approx(2e-4)
    assert plan.eval_steps is None
    assert plan.checkpoint_steps == 5


def test_max_steps_and_multiplier_override_the_defaults(tmp_path: Path) -> None:
    plan = make_plan(
        spec(
            tmp_path,
            max_steps=50,
            batch_size=4,
            learning_rate_multiplier=10.0,
            early_stopping_patience=2,
            eval_steps=5,
        ),
        train_rows=20,
        train_tokens=1000,
        max_len=128,
        has_eval=True,
    )
    assert plan.total_steps == 50
    assert plan.learning_rate == pytest.approx(2e-3)
    assert plan.eval_steps == plan.checkpoint_steps == 5


@pytest.mark.parametrize(
    ("requested", "cuda", "installed", "expected", "notice"),
    [
        ("auto", False, False, "trl", False),
        ("auto", True, True, "unsloth", False),
        ("auto", True, False, "trl", False),
        ("unsloth", False, True, "trl", True),
        ("unsloth", True, False, "trl", True),
        ("unsloth", True, True, "unsloth", False),
        ("trl", True, True, "trl", False),
    ],
)
def test_backend_selection_falls_back_to_trl_with_a_notice(
    requested: str, cuda: bool, installed: bool, expected: str, notice: bool
) -> None:
    choice = select_backend(requested, cuda=cuda, unsloth_installed=installed, qlora=False)
    assert choice.backend == expected
    assert bool(choice.notice) is notice


def test_qlora_without_a_gpu_is_refused() -> None:
    with pytest.raises(TrainingError) as caught:
        select_backend("auto", cuda=False, unsloth_installed=False, qlora=True)
    assert caught.value.code == "gpu_required"


def test_chat_rows_become_prompt_and_completion(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    path.write_text(json.dumps(row) + "\n\n")
    [parsed] = read_chat_rows(path)
    assert parsed["prompt"] == [{"role": "user", "content": "hi"}]
    assert parsed["completion"] == [{"role": "assistant", "content": "yo"}]


def test_a_row_not_ending_with_the_assistant_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    good = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
    bad = {"messages": [{"role": "assistant", "content": "b"}, {"role": "user", "content": "a"}]}
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(TrainingError, match="line 2"):
        read_chat_rows(path)


def test_rows_longer_than_the_context_are_listed() -> None:
    with pytest.raises(TrainingError) as caught:
        check_lengths([10, 50, 12, 70], 40, "training_file")
    assert caught.value.code == "row_too_long"
    assert "row 2 has 50" in caught.value.message
    assert "row 4 has 70" in caught.value.message


def test_validation_split_holds_out_a_share() -> None:
    rows = [{"i": i} for i in range(20)]
    train, held = split_validation(rows, 0.1, seed=0)
    assert len(held) == 2
    assert len(train) == 18
    assert split_validation(rows, 0.0, seed=0) == (rows, [])


def test_file_summary_counts_rows_and_rejects_bad_lines() -> None:
    row = {
        "messages": [{"role": "user", "content": "abcd"}, {"role": "assistant", "content": "efgh"}]
    }
    summary = summarize_chat_jsonl((json.dumps(row) + "\n").encode() * 3, "training_file")
    assert summary.rows == 3
    assert summary.estimated_tokens == 6
    with pytest.raises(FileProblem, match="training_file line 2"):
        summarize_chat_jsonl((json.dumps(row) + "\nnot json\n").encode(), "training_file")


def test_an_openai_style_request_becomes_a_create_job_command() -> None:
    hyperparameters = Hyperparameters(n_epochs=2)
    request = CreateFineTuningJob(
        model="tiny-llama",
        training_file=SHA,
        seed=7,
        suffix="bot",
        method=FineTuningMethod(supervised=SupervisedMethod(hyperparameters=hyperparameters)),
    )
    command = command_of(request, "ftjob-1", SHA)
    assert command.hyperparameters.n_epochs == 2
    assert command.hyperparameters.seed == 7
    assert command.training_file == SHA
    assert command.suffix == "bot"
