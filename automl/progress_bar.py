"""The progress bar of `automl run`, `resume` and `automl.run`: shown only on a terminal, one
line that fits 80 columns, the counter never cut, with the best value of the objective the
campaign's front is sorted by (its first).

Rich lays the columns out as a table as wide as the console; a column that does not fit is
cut, so every column but the details has a fixed width and the details shrink (ellipsis)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column

REFRESH_SECONDS = 0.1


def format_value(value: float) -> str:
    """An objective value as the bar and the command line's tables show it: an integer as
    such, else four significant digits (``2.504e-05``)."""
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3e}"


def details(progress: Any) -> str:
    """`hits 77% failed 165 best 2.504e-05 max_relative_error`: the best value of the first
    objective (`Progress.best` follows the space's order of objectives), the value before the
    name so that a narrow terminal cuts the name, not the number."""
    text = f"hits {progress.cache_hit_rate:.0%} failed {progress.failed}"
    for objective, value in list(progress.best.items())[:1]:
        text += f" best {format_value(value)} {objective}"
    return text


@contextmanager
def progress_bar(total: int, quiet: bool = False, console: Console | None = None
                 ) -> Iterator[Callable[[Any], None] | None]:
    """A callback for the controller's progress reports, or None (quiet, or not a terminal:
    a log file or a pipe gets the closing summary only). Drawn on stderr unless `console`."""
    console = console or Console(stderr=True)
    if quiet or not console.is_terminal:
        yield None
        return
    digits = len(str(total))
    counter = TextColumn(f"{{task.completed:>{digits}}}/{{task.total}}",
                         table_column=Column(no_wrap=True, min_width=2 * digits + 1))
    with Progress(BarColumn(bar_width=12), counter,
                  TextColumn("{task.fields[details]}",
                             table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
                  TimeElapsedColumn(table_column=Column(no_wrap=True, min_width=7)),
                  console=console, transient=False, expand=True) as bar:
        task = bar.add_task("run", total=total, details="")
        last = [0.0]

        def on_progress(progress: Any) -> None:
            now = time.monotonic()
            if now - last[0] < REFRESH_SECONDS and progress.evaluations < total:
                return
            last[0] = now
            bar.update(task, completed=progress.evaluations,
                       details=details(progress))

        yield on_progress
