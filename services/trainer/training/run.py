"""Train one job with TRL and a PEFT LoRA: SFTTrainer (completion-only loss) for supervised
jobs, DPOTrainer for preference (DPO) jobs."""

import math
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.trainer.training.backends import cuda_available, select_backend, unsloth_installed
from services.trainer.training.data import (
    check_lengths,
    read_rows,
    split_validation,
    token_lengths,
)
from services.trainer.training.errors import TrainingError
from services.trainer.training.lora import lora_config
from services.trainer.training.progress import ProgressCallback, StopFlag
from services.trainer.training.reporting import Reporter
from services.trainer.training.spec import TrainingSpec

DEFAULT_EPOCHS = 3
MAX_AUTO_BATCH = 16
CHECKPOINTS_PER_RUN = 4


@dataclass
class Plan:
    """Every ``auto`` resolved."""

    epochs: int
    batch_size: int
    learning_rate: float
    max_seq_length: int
    total_steps: int
    tokens_per_epoch: int
    checkpoint_steps: int
    eval_steps: int | None

    @property
    def tokens_per_step(self) -> float:
        steps_per_epoch = max(self.total_steps / max(self.epochs, 1), 1)
        return self.tokens_per_epoch / steps_per_epoch


def load_base(spec: TrainingSpec) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from libs.models import BaseModelNotFound, resolve_base_model

    try:
        path = resolve_base_model(spec.base_model, spec.models_dir)
    except BaseModelNotFound as exc:
        raise TrainingError("base_model_not_found", str(exc), "model") from None
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    if tokenizer.chat_template is None:
        raise TrainingError(
            "no_chat_template",
            f"the tokenizer of {spec.base_model} has no chat template; use an instruct model",
            "model",
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return AutoModelForCausalLM.from_pretrained(str(path)), tokenizer


def context_length(model: Any) -> int:
    return int(getattr(model.config, "max_position_embeddings", 2048) or 2048)


def resolve_max_length(spec: TrainingSpec, model: Any) -> int:
    context = context_length(model)
    wanted = spec.hyperparameters.max_seq_length
    if wanted == "auto":
        return min(context, 4096)
    if wanted > context:
        raise TrainingError(
            "max_seq_length_exceeds_context",
            f"max_seq_length={wanted} is longer than the base model's context of {context} "
            "tokens; lower it",
            "hyperparameters.max_seq_length",
        )
    return wanted


def make_plan(
    spec: TrainingSpec, train_rows: int, train_tokens: int, max_len: int, has_eval: bool
) -> Plan:
    hp = spec.hyperparameters
    batch = min(MAX_AUTO_BATCH, train_rows) if hp.batch_size == "auto" else hp.batch_size
    epochs = DEFAULT_EPOCHS if hp.n_epochs == "auto" else hp.n_epochs
    per_epoch = math.ceil(train_rows / batch)
    total = hp.max_steps or per_epoch * epochs
    if hp.max_steps:
        epochs = math.ceil(hp.max_steps / per_epoch)
    eval_steps = (hp.eval_steps or max(total // CHECKPOINTS_PER_RUN, 1)) if has_eval else None
    checkpoint = hp.checkpoint_steps or max(total // CHECKPOINTS_PER_RUN, 1)
    if hp.early_stopping_patience and eval_steps:
        checkpoint = eval_steps
    return Plan(
        epochs=epochs,
        batch_size=batch,
        learning_rate=hp.resolved_learning_rate(),
        max_seq_length=max_len,
        total_steps=total,
        tokens_per_epoch=train_tokens,
        checkpoint_steps=checkpoint,
        eval_steps=eval_steps,
    )


def common_arguments(spec: TrainingSpec, plan: Plan, cuda: bool) -> dict[str, Any]:
    """Training arguments every method shares."""
    hp = spec.hyperparameters
    early = bool(hp.early_stopping_patience and plan.eval_steps)
    return {
        "output_dir": str(spec.output_dir / "checkpoints"),
        "per_device_train_batch_size": plan.batch_size,
        "per_device_eval_batch_size": plan.batch_size,
        "num_train_epochs": plan.epochs,
        "max_steps": hp.max_steps or -1,
        "learning_rate": plan.learning_rate,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": plan.checkpoint_steps,
        "save_total_limit": 2,
        "eval_strategy": "steps" if plan.eval_steps else "no",
        "eval_steps": plan.eval_steps,
        "load_best_model_at_end": early,
        "metric_for_best_model": "eval_loss" if early else None,
        "greater_is_better": False if early else None,
        "report_to": "none",
        "use_cpu": not cuda,
        "seed": hp.seed,
        "data_seed": hp.seed,
        "max_length": plan.max_seq_length,
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        "save_only_model": False,
    }


def sft_config(spec: TrainingSpec, plan: Plan, cuda: bool) -> Any:
    from trl import SFTConfig

    return SFTConfig(
        **common_arguments(spec, plan, cuda),
        packing=spec.hyperparameters.packing,
        completion_only_loss=True,
    )


def dpo_config(spec: TrainingSpec, plan: Plan, cuda: bool) -> Any:
    from trl import DPOConfig

    try:
        beta = spec.hyperparameters.resolved_beta()
    except ValueError as exc:
        raise TrainingError("invalid_hyperparameters", str(exc), "hyperparameters.beta") from None
    return DPOConfig(**common_arguments(spec, plan, cuda), beta=beta)


def train(spec: TrainingSpec, reporter: Reporter, stop: StopFlag) -> None:
    import torch

    if spec.torch_threads:
        torch.set_num_threads(spec.torch_threads)
    started = time.monotonic()
    cuda = cuda_available()
    choice = select_backend(
        spec.backend,
        cuda=cuda,
        unsloth_installed=unsloth_installed(),
        qlora=spec.hyperparameters.qlora,
    )
    model, tokenizer = load_base(spec)
    peft = lora_config(model, spec.hyperparameters)
    max_len = resolve_max_length(spec, model)
    if choice.backend == "unsloth":
        from services.trainer.training.unsloth_backend import load_with_unsloth

        model, tokenizer = load_with_unsloth(
            Path(model.name_or_path), spec.hyperparameters, max_len
        )
        peft = None
    rows = read_rows(spec.train_file, spec.method)
    lengths = token_lengths(tokenizer, rows)
    check_lengths(lengths, max_len, "training_file")
    if spec.validation_file is not None:
        train_rows, eval_rows = rows, read_rows(spec.validation_file, spec.method)
        check_lengths(token_lengths(tokenizer, eval_rows), max_len, "validation_file")
    else:
        train_rows, eval_rows = split_validation(
            rows, spec.hyperparameters.validation_split, spec.hyperparameters.seed
        )
    train_tokens = round(sum(lengths) * len(train_rows) / len(rows))
    plan = make_plan(spec, len(train_rows), train_tokens, max_len, bool(eval_rows))
    reporter.send(
        "validated",
        backend=choice.backend,
        notice=choice.notice,
        total_steps=plan.total_steps,
        train_rows=len(train_rows),
        validation_rows=len(eval_rows),
        estimated_tokens=round(plan.tokens_per_step * plan.total_steps),
        hyperparameters={
            "n_epochs": plan.epochs,
            "batch_size": plan.batch_size,
            "learning_rate": plan.learning_rate,
            "max_seq_length": plan.max_seq_length,
            "lora_r": spec.hyperparameters.lora_r,
            "lora_alpha": spec.hyperparameters.lora_alpha,
            "lora_target_modules": sorted(peft.target_modules) if peft else "unsloth",
            "max_steps": plan.total_steps,
        },
    )
    if stop.requested:
        reporter.send("cancelled", step=0)
        return
    trainer = build_trainer(
        spec, plan, model, tokenizer, peft, train_rows, eval_rows, cuda, reporter, stop
    )
    result = trainer.train(
        resume_from_checkpoint=str(spec.resume_from) if spec.resume_from else None
    )
    finish(spec, trainer, result, plan, reporter, stop, started)


def build_trainer(
    spec: TrainingSpec,
    plan: Plan,
    model: Any,
    tokenizer: Any,
    peft: Any,
    train_rows: list[Any],
    eval_rows: list[Any],
    cuda: bool,
    reporter: Reporter,
    stop: StopFlag,
) -> Any:
    from datasets import Dataset
    from transformers import EarlyStoppingCallback

    callbacks: list[Any] = [
        ProgressCallback(reporter, stop, plan.tokens_per_step, spec.progress_interval_seconds)
    ]
    if spec.hyperparameters.early_stopping_patience and plan.eval_steps:
        callbacks.append(EarlyStoppingCallback(spec.hyperparameters.early_stopping_patience))
    if spec.method == "dpo":
        from trl import DPOTrainer

        trainer_class: Any = DPOTrainer
        arguments = dpo_config(spec, plan, cuda)
    else:
        from trl import SFTTrainer

        trainer_class, arguments = SFTTrainer, sft_config(spec, plan, cuda)
    return trainer_class(
        model=model,
        args=arguments,
        train_dataset=Dataset.from_list(train_rows),
        eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
        processing_class=tokenizer,
        peft_config=peft,
        callbacks=callbacks,
    )


def finish(
    spec: TrainingSpec,
    trainer: Any,
    result: Any,
    plan: Plan,
    reporter: Reporter,
    stop: StopFlag,
    started: float,
) -> None:
    state = trainer.state
    if stop.requested:
        reporter.send("cancelled", step=state.global_step)
        return
    adapter_dir = spec.output_dir / "adapter"
    trainer.save_model(str(adapter_dir))
    merged_dir = save_merged(trainer, spec) if spec.export_merged else None
    metrics = {k: float(v) for k, v in (result.metrics or {}).items() if isinstance(v, int | float)}
    losses = [e["loss"] for e in state.log_history if "loss" in e]
    evals = [e["eval_loss"] for e in state.log_history if "eval_loss" in e]
    if losses:
        metrics["final_train_loss"] = float(losses[-1])
    if evals:
        metrics["final_validation_loss"] = float(evals[-1])
    reporter.send(
        "completed",
        adapter_dir=str(adapter_dir),
        merged_dir=str(merged_dir) if merged_dir else None,
        step=state.global_step,
        metrics=metrics,
        trained_tokens=round(plan.tokens_per_step * state.global_step),
        wall_seconds=round(time.monotonic() - started, 3),
    )


def save_merged(trainer: Any, spec: TrainingSpec) -> Path:
    """The base model with the LoRA weights folded in, saved as a plain HF directory."""
    merged_dir = spec.output_dir / "merged"
    merged = trainer.model.merge_and_unload()
    merged.save_pretrained(str(merged_dir))
    trainer.processing_class.save_pretrained(str(merged_dir))
    return merged_dir


def install_stop_signal() -> StopFlag:
    stop = StopFlag()
    signal.signal(signal.SIGUSR1, stop.request)
    return stop


__all__ = ["Plan", "install_stop_signal", "make_plan", "train"]
