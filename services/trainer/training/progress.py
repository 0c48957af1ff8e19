"""A trainer callback: throttled progress, one report at each eval and checkpoint, and stop."""

import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from services.trainer.training.reporting import Reporter


class StopFlag:
    """Set by SIGUSR1: stop cooperatively at the next step."""

    def __init__(self) -> None:
        self.requested = False

    def request(self, *_: Any) -> None:
        self.requested = True


class ProgressCallback(TrainerCallback):
    def __init__(
        self, reporter: Reporter, stop: StopFlag, tokens_per_step: float, interval: float
    ) -> None:
        self.reporter = reporter
        self.stop = stop
        self.tokens_per_step = tokens_per_step
        self.interval = interval
        self.train_loss: float | None = None
        self.validation_loss: float | None = None
        self.learning_rate: float | None = None
        self._last_sent = 0.0
        self._started = time.monotonic()
        self._first_step = 0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._started = time.monotonic()
        self._first_step = state.global_step

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.stop.requested:
            control.should_training_stop = True

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        logs = logs or {}
        if "loss" in logs:
            self.train_loss = float(logs["loss"])
        if "learning_rate" in logs:
            self.learning_rate = float(logs["learning_rate"])
        if "eval_loss" in logs:
            self.validation_loss = float(logs["eval_loss"])
            self.send(state, "eval")
        elif time.monotonic() - self._last_sent >= self.interval:
            self.send(state, "step")

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.send(state, "checkpoint")
        path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        self.reporter.send(
            "checkpoint",
            step=state.global_step,
            path=str(path),
            train_loss=self.train_loss,
            validation_loss=self.validation_loss,
        )

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.send(state, "final")

    def send(self, state: Any, reason: str) -> None:
        elapsed = max(time.monotonic() - self._started, 1e-6)
        done = state.global_step - self._first_step
        rate = done / elapsed if done > 0 else None
        remaining = max(state.max_steps - state.global_step, 0)
        self.reporter.send(
            "progress",
            step=state.global_step,
            total_steps=state.max_steps,
            epoch=float(state.epoch or 0.0),
            train_loss=self.train_loss,
            validation_loss=self.validation_loss,
            learning_rate=self.learning_rate,
            tokens_per_second=round(rate * self.tokens_per_step, 2) if rate else None,
            eta_seconds=round(remaining / rate, 2) if rate else None,
            reason=reason,
        )
        self._last_sent = time.monotonic()


__all__ = ["ProgressCallback", "StopFlag"]
