"""The progress bar of `automl run`: on a terminal only, within 80 columns, its counter never
cut, showing the best value of the first objective (not of every objective: a best cost of 0
says nothing)."""

from __future__ import annotations

import io
import re

from rich.console import Console

from automl.progress import Progress
from automl.progress_bar import progress_bar

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def rendered_lines(width: int, terminal: bool = True) -> tuple[list[str], bool]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=width, color_system=None)
    with progress_bar(10_000, console=console) as on_progress:
        shown = on_progress is not None
        if shown:
            on_progress(Progress(candidates=43_541, evaluations=7_215, max_evaluations=10_000,
                                 cache_hit_rate=0.77, failed=1_650,
                                 best={"max_relative_error_of_a_long_objective": 2.504e-05,
                                       "cost": 0.0}))
            on_progress(Progress(candidates=43_600, evaluations=10_000, max_evaluations=10_000,
                                 cache_hit_rate=0.77, failed=1_650,
                                 best={"max_relative_error_of_a_long_objective": 2.5e-05,
                                       "cost": 0.0}))
    text = ANSI.sub("", out.getvalue()).replace("\r", "\n")
    return [line for line in text.splitlines() if line.strip()], shown


def test_the_bar_fits_80_columns_with_the_whole_counter():
    lines, shown = rendered_lines(80)
    assert shown
    last = lines[-1]
    assert all(len(line) <= 80 for line in lines), lines
    assert "10000/10000" in last
    assert "hits 77% failed 1650 best 2.500e-05 max_rel" in last
    assert "cost" not in last  # only the first objective's best


def test_a_wide_terminal_shows_the_first_objectives_best_value():
    lines, _ = rendered_lines(160)
    assert "best 2.500e-05 max_relative_error_of_a_long_objective" in lines[-1]


def test_no_bar_when_not_a_terminal():
    lines, shown = rendered_lines(80, terminal=False)
    assert not shown and lines == []
