"""Continuous batching: one thread runs the model one step at a time for every running row.

Between two steps it admits waiting requests (each prompt is computed alone, then its cache
joins the batch), drops finished or abandoned rows, and loads or unloads adapters. Each row
has its own adapter, sampling parameters, stop sequences and token budget, and its text goes
to its own client as soon as it is decoded.
"""

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.router.engine.batch import KVBatch
from services.router.engine.model import AdapterModel, AdapterProblem
from services.router.engine.sampling import Sampler, SamplingParams
from services.router.engine.text import TextTracker

logger = logging.getLogger("tuneloop.engine")


class PromptTooLong(ValueError):
    pass


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Finished:
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Failed:
    message: str


Event = Delta | Finished | Failed


@dataclass(eq=False)
class Row:
    adapter: str | None
    prompt: list[int]
    params: SamplingParams
    emit: Callable[[Event], None]
    sampler: Sampler
    text: TextTracker
    max_tokens: int
    tokens: list[int] = field(default_factory=list)
    cancelled: bool = False
    done: bool = False

    @property
    def position(self) -> int:
        """Position of the newest token (the input of the next step)."""
        return len(self.prompt) + len(self.tokens) - 1


class Handle:
    """One request's events, read from the event loop that submitted it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self.row: Row | None = None

    def emit(self, event: Event) -> None:
        """Called from the scheduler's thread."""
        with contextlib.suppress(RuntimeError):  # a closed event loop: nobody reads any more
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)

    async def events(self) -> AsyncIterator[Event]:
        while True:
            event = await self._queue.get()
            yield event
            if not isinstance(event, Delta):
                return

    def cancel(self) -> None:
        """The client went away: the row leaves the batch at the next step."""
        if self.row is not None:
            self.row.cancelled = True


@dataclass(eq=False)
class _Control:
    kind: str
    name: str
    path: Path | None
    done: threading.Event = field(default_factory=threading.Event)
    error: AdapterProblem | None = None


class Scheduler:
    def __init__(self, model: AdapterModel, max_batch: int) -> None:
        self.model = model
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._waiting: deque[Row] = deque()
        self._controls: list[_Control] = []
        self._running: list[Row] = []
        self._draining: set[str] = set()
        self._batch = KVBatch()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="engine-scheduler", daemon=True)
        self.steps = 0
        """Decode steps run (for tests and metrics)."""
        self.largest_batch = 0

    def start(self) -> "Scheduler":
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join()

    @property
    def adapters(self) -> list[str]:
        """Adapters that take requests (not those being unloaded)."""
        with self._cond:
            return sorted(self.model.adapters - self._draining)

    # -- requests --------------------------------------------------------------------------

    def submit(self, adapter: str | None, prompt: list[int], params: SamplingParams) -> Handle:
        """Queue a request; raises ``AdapterProblem`` for an unknown adapter and
        ``PromptTooLong`` when the prompt leaves no room for an answer."""
        if len(prompt) >= self.model.max_positions:
            raise PromptTooLong(
                f"This model's maximum context length is {self.model.max_positions} tokens; "
                f"the prompt has {len(prompt)}."
            )
        handle = Handle(asyncio.get_running_loop())
        row = Row(
            adapter=adapter,
            prompt=prompt,
            params=params,
            emit=handle.emit,
            sampler=Sampler(params),
            text=TextTracker(self.model.decode, params.stop),
            max_tokens=min(params.max_tokens, self.model.max_positions - len(prompt)),
        )
        handle.row = row
        with self._cond:
            if adapter is not None and (
                adapter not in self.model.adapters or adapter in self._draining
            ):
                raise AdapterProblem(f"The model `{adapter}` does not exist.")
            self._waiting.append(row)
            self._cond.notify_all()
        return handle

    # -- adapters --------------------------------------------------------------------------

    def load(self, name: str, path: Path) -> None:
        """Blocking: returns once the adapter serves (between two steps of the batch)."""
        self._control(_Control("load", name, path))

    def unload(self, name: str) -> None:
        """Blocking: new requests for ``name`` are refused at once; it is removed when the
        rows using it have finished."""
        with self._cond:
            if name not in self.model.adapters or name in self._draining:
                raise AdapterProblem(f"The lora adapter '{name}' cannot be found.")
            self._draining.add(name)
        self._control(_Control("unload", name, None))

    def _control(self, control: _Control) -> None:
        with self._cond:
            self._controls.append(control)
            self._cond.notify_all()
        control.done.wait()
        if control.error is not None:
            raise control.error

    def _in_use(self, name: str) -> bool:
        return any(r.adapter == name and not r.done for r in (*self._running, *self._waiting))

    def _run_controls(self) -> None:
        with self._cond:
            ready = [c for c in self._controls if c.kind == "load" or not self._in_use(c.name)]
            self._controls = [c for c in self._controls if c not in ready]
        for control in ready:
            try:
                if control.kind == "load":
                    assert control.path is not None
                    self.model.load(control.name, control.path)
                else:
                    self.model.unload(control.name)
            except AdapterProblem as exc:
                control.error = exc
            except Exception as exc:  # a broken adapter file must not stop the engine
                logger.exception("adapter %s failed", control.kind)
                control.error = AdapterProblem(f"Loading the adapter failed: {exc}")
            finally:
                if control.kind == "unload":
                    with self._cond:
                        self._draining.discard(control.name)
                control.done.set()

    # -- the loop --------------------------------------------------------------------------

    def _run(self) -> None:
        import torch

        with torch.inference_mode():
            while True:
                with self._cond:
                    while not (
                        self._stopping or self._waiting or self._running or self._ready_controls()
                    ):
                        self._cond.wait()
                    if self._stopping:
                        break
                    room = self.max_batch - len(self._running)
                    admitted = [
                        self._waiting.popleft() for _ in range(min(room, len(self._waiting)))
                    ]
                self._run_controls()
                for row in admitted:
                    self._admit(row)
                if self._running:
                    self._step()
        for row in [*self._running, *self._waiting]:
            if not row.done:
                row.emit(Failed("The engine is shutting down."))
        for control in self._controls:
            control.error = AdapterProblem("The engine is shutting down.")
            control.done.set()

    def _ready_controls(self) -> bool:
        return any(c.kind == "load" or not self._in_use(c.name) for c in self._controls)

    def _admit(self, row: Row) -> None:
        """Compute the row's prompt alone, choose its first token, and add it to the batch."""
        import torch
        from transformers import DynamicCache

        if row.cancelled:
            return
        try:
            cache = DynamicCache()
            ids = torch.tensor([row.prompt], dtype=torch.long)
            logits = self.model.forward(
                ids,
                torch.ones_like(ids),
                torch.arange(len(row.prompt)).unsqueeze(0),
                cache,
                [row.adapter],
            )
        except Exception as exc:  # this request only: the batch goes on
            logger.warning("a request failed before its first token: %s", exc)
            row.emit(Failed(f"The request could not be run: {exc}"))
            return
        self._batch.add(cache, len(row.prompt))
        self._running.append(row)
        self._advance(row, logits[0])
        self.largest_batch = max(self.largest_batch, len(self._running))

    def _step(self) -> None:
        import torch

        rows = self._running
        live = [i for i, r in enumerate(rows) if not (r.done or r.cancelled)]
        if len(live) < len(rows):
            self._running = [rows[i] for i in live]
            self._batch.keep(live)
            rows = self._running
        if not rows:
            return
        try:
            logits = self.model.forward(
                torch.tensor([[r.tokens[-1]] for r in rows], dtype=torch.long),
                self._batch.step_mask(),
                torch.tensor([[r.position] for r in rows], dtype=torch.long),
                self._batch.cache,
                [r.adapter for r in rows],
            )
        except Exception as exc:
            logger.exception("a decode step failed")
            for row in rows:
                row.emit(Failed(f"The engine failed: {exc}"))
            self._running = []
            self._batch.keep([])
            return
        self.steps += 1
        for row, row_logits in zip(rows, logits, strict=True):
            self._advance(row, row_logits)

    def _advance(self, row: Row, logits: Any) -> None:
        """Choose the row's next token, send its new text, and finish it when it is done."""
        token = row.sampler.next_token(logits)
        row.tokens.append(token)
        finish = None
        if token in self.model.eos_ids and not row.params.ignore_eos:
            finish = "stop"
            piece = row.text.add(row.tokens[:-1])
        else:
            piece = row.text.add(row.tokens)
            if row.text.stopped:
                finish = "stop"
            elif len(row.tokens) >= row.max_tokens:
                finish = "length"
        if finish is not None:
            piece += row.text.flush()
        if piece:
            row.emit(Delta(piece))
        if finish is not None:
            row.done = True
            row.emit(Finished(finish, len(row.prompt), len(row.tokens)))


__all__ = [
    "Delta",
    "Event",
    "Failed",
    "Finished",
    "Handle",
    "PromptTooLong",
    "Scheduler",
]
