"""Progress of a run on stderr, for the CLI: a rich bar on a terminal, plain lines otherwise."""

from __future__ import annotations

from types import TracebackType
from typing import Final

import click

_LABELS: Final = {"convert": "reading and converting", "write": "writing YAML", "compare": "comparing YAML"}


class PlainProgress:
    """One line per tenth of a phase (and at its end): readable in CI logs, never a flood."""

    def __init__(self) -> None:
        self._totals: dict[str, int] = {}
        self._done: dict[str, int] = {}

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def phase(self, name: str, total: int) -> None:
        self._totals[name] = total
        self._done[name] = 0

    def advance(self, name: str) -> None:
        self._done[name] += 1
        done, total = self._done[name], self._totals[name]
        step = max(1, total // 10)
        if done == total or done % step == 0:
            click.echo(f"{_LABELS.get(name, name)}: {done}/{total}", err=True)


class RichProgress:
    """A transient bar per phase on a terminal."""

    def __init__(self, color: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), console=Console(stderr=True, no_color=not color),
                                  transient=True)
        self._tasks: dict[str, object] = {}

    def __enter__(self) -> "RichProgress":
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()

    def phase(self, name: str, total: int) -> None:
        self._tasks[name] = self._progress.add_task(_LABELS.get(name, name), total=total)

    def advance(self, name: str) -> None:
        self._progress.advance(self._tasks[name])  # type: ignore[arg-type]


def make_progress(tty: bool, color: bool, quiet: bool) -> PlainProgress | RichProgress | None:
    """A rich bar on a terminal, plain lines otherwise, nothing with --quiet."""
    if quiet:
        return None
    return RichProgress(color) if tty else PlainProgress()


__all__ = ["PlainProgress", "RichProgress", "make_progress"]
