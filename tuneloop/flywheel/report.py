"""Printing the run: a numbered header per step, its timing, and a closing summary."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table


@dataclass
class StepTiming:
    title: str
    seconds: float
    outcome: str


@dataclass
class Reporter:
    console: Console
    timings: list[StepTiming] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _outcome: str = ""

    @contextmanager
    def step(self, title: str) -> Iterator["Reporter"]:
        number = len(self.timings) + 1
        self.console.rule(f"[bold cyan]{number}. {title}", align="left")
        began = time.monotonic()
        self._outcome = ""
        yield self
        seconds = time.monotonic() - began
        self.timings.append(StepTiming(title, seconds, self._outcome))
        self.console.print(f"[green]✓[/] {title} [dim]({seconds:.1f}s)[/]", highlight=False)

    def done(self, outcome: str) -> None:
        """One line saying what the current step achieved (kept for the summary)."""
        self._outcome = outcome
        self.console.print(f"  {outcome}", highlight=False)

    def info(self, text: str) -> None:
        self.console.print(f"  [dim]{text}[/]", highlight=False)

    def summary_seconds(self) -> float:
        return time.monotonic() - self.started

    def summary(self) -> Table:
        table = Table("step", "seconds", "outcome", title="flywheel run")
        for timing in self.timings:
            table.add_row(timing.title, f"{timing.seconds:.1f}", timing.outcome)
        table.add_row("[bold]total", f"[bold]{time.monotonic() - self.started:.1f}", "")
        return table


__all__ = ["Reporter", "StepTiming"]
