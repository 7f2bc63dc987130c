"""Progress bars for long commands: one labelled bar per phase (read, write, embed) with its rate and ETA."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from copyloom.cli._common import console

T = TypeVar("T")


class _RateColumn(ProgressColumn):
    """Items per second in the phase's own unit ("rows/s", "docs/s", "MB/s")."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text("", style="progress.data.speed")
        unit = str(task.fields.get("unit", "/s"))
        scale = float(task.fields.get("scale", 1.0))
        return Text(f"{speed / scale:,.0f} {unit}", style="progress.data.speed")


class _CountColumn(MofNCompleteColumn):
    """done/total, except for byte counts (the read phase of a compressed file), which say MB."""

    def render(self, task: Task) -> Text:
        if task.fields.get("unit") == "MB/s":
            total = f"{task.total / 1e6:.1f}" if task.total is not None else "?"
            return Text(f"{task.completed / 1e6:.1f}/{total} MB", style="progress.download")
        return super().render(task)


class Phases:
    """A rich ``Progress`` with one bar per phase; phases start when first reported and stay on screen."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            _CountColumn(),
            _RateColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Phases:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def update(self, phase: str, label: str, done: int, total: int | None, unit: str = "rows/s") -> None:
        """Report ``done`` of ``total`` for ``phase`` (created with ``label`` on first use)."""
        task = self._tasks.get(phase)
        if task is None:
            scale = 1e6 if unit == "MB/s" else 1.0
            task = self._tasks[phase] = self.progress.add_task(label, total=total, unit=unit, scale=scale)
        self.progress.update(task, completed=done, total=total)

    def counting(self, phase: str, label: str, rows: Iterable[T], unit: str = "rows/s") -> Iterator[T]:
        """Yield ``rows`` while counting them on the phase's bar (total unknown: the bar pulses)."""
        self.update(phase, label, 0, None, unit)
        done = 0
        for row in rows:
            yield row
            done += 1
            if done % 100 == 0:
                self.update(phase, label, done, None, unit)
        self.update(phase, label, done, done, unit)
