"""The research workflows of `automl`: `validate` (held-out evaluation of a campaign's best
programs, or of program files) and `front` (a campaign's front against its space's baselines).

What they compute is the space's (`SearchSpace.validate`, `SearchSpace.front_report`, options
declared by `SearchSpace.ValidationOptions` and `SearchSpace.FrontOptions`): the command line
names no space. `--json` prints the report's rows as JSON lines as they are made (a long
validation prints as it goes); otherwise one table per kind of row, then the summary.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from automl.cli.common import (
    CampaignArgument,
    DatabaseOption,
    JsonOption,
    SettingsOption,
    console,
    database_url,
    error_console,
    one_line,
    open_results,
    parse_pairs,
    parse_settings,
    user_errors,
)

if TYPE_CHECKING:  # imported when a command runs, not to show --help
    from automl.space import SearchSpace
    from automl.workflows import WorkflowReport

OptionsOption = Annotated[list[str], typer.Option(
    "--option", help="Workflow option KEY=VALUE (repeatable; values read as YAML, e.g. "
                     "--option init_seeds=0,1,2,3). An unknown one lists those allowed.")]
MarkdownOption = Annotated[bool, typer.Option(
    "--markdown", help="Also print the report's markdown table.")]
TargetsArgument = Annotated[list[str], typer.Argument(
    metavar="CAMPAIGN|FILE...",
    help="A stored campaign (the programs its space picks from it), and/or DSL or zoo files.")]
SpaceNameOption = Annotated[str | None, typer.Option(
    "--space", help="Space of DSL files without a zoo header.")]

CELL_WIDTH = 60  # a list or mapping in a table cell is cut here (--json has it whole)


def validate(
    targets: TargetsArgument,
    space: SpaceNameOption = None,
    settings: SettingsOption = None,
    options: OptionsOption = None,
    markdown: MarkdownOption = False,
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Held-out evaluation of a campaign's best programs or of program files, beside the
    space's references (optimizers: meta-validation tasks against tuned AdamW; evonorm: a
    network the search never saw, beside BN-ReLU and EvoNorm-B0/S0)."""
    from automl.plugins import get_space

    with user_errors():
        chosen = parse_pairs(options or [], "--option")
        overrides = parse_settings(settings or [])
        files = [Path(t) for t in targets if Path(t).is_file()]
        campaigns = [t for t in targets if not Path(t).is_file()]
        for target in campaigns:
            if Path(target).exists():
                raise ValueError(f"{target}: not a program file")
            if target.endswith(".dsl"):
                raise ValueError(f"{target}: no such file")
        if len(campaigns) > 1:
            raise ValueError(f"give at most one CAMPAIGN (got {', '.join(campaigns)}); "
                             "files may be added to it")
        programs: dict[str, str] = {}
        origin: dict[str, Any] = {}
        texts, headers = _read_files(files)
        if campaigns:
            with open_results(database_url(db)) as results:
                stored = results.space(campaigns[0])
                _same_space(space, stored.name, f"campaign {campaigns[0]!r}")
                search_space = stored if not overrides else get_space(
                    stored.name, {**stored.settings.model_dump(mode="json"), **overrides})
                picked = search_space.validation_candidates(results, campaigns[0], chosen)
            programs.update(picked.programs)
            origin.update(picked.origin)
        else:
            search_space = _space_of_files(files, headers, space, overrides)
        for path, header in zip(files, headers, strict=True):
            if header is not None:
                _same_space(search_space.name, header[0], str(path))
        programs.update(texts)
        if len(files) == 1:
            origin["file"] = str(files[0])
        elif files:
            origin["files"] = [str(path) for path in files]
        report = _run(lambda sink: search_space.validate(programs, chosen, origin=origin,
                                                         on_row=sink),
                      as_json, f"validating {len(programs)} program(s)")
    _print(report, as_json, markdown)


def front(
    campaign: CampaignArgument,
    options: OptionsOption = None,
    markdown: MarkdownOption = False,
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """A campaign's front against its space's baselines (AutoNumerics: cost by cost on
    validation points, beside minimax, rational, Pade and Taylor, with time to target)."""
    with user_errors():
        chosen = parse_pairs(options or [], "--option")
        with open_results(database_url(db)) as results:
            search_space = results.space(campaign)
            report = _run(lambda sink: search_space.front_report(results, campaign, chosen,
                                                                 on_row=sink),
                          as_json, f"checking the front of {campaign}")
    _print(report, as_json, markdown)


# -- helpers ----------------------------------------------------------------------------------
def _read_files(files: list[Path]) -> tuple[dict[str, str], list[tuple[str, dict] | None]]:
    """Each file's program text by path, and its zoo header's (space, settings) or None."""
    from automl.zoo import read_program_file

    texts: dict[str, str] = {}
    headers: list[tuple[str, dict] | None] = []
    for path in files:  # a zoo file's header gives its space and settings
        texts[str(path)], entry = read_program_file(path)
        headers.append((entry.space, dict(entry.settings)) if entry else None)
    return texts, headers


def _space_of_files(files: list[Path], headers: list[tuple[str, dict] | None],
                    space: str | None, overrides: dict[str, Any]) -> SearchSpace:
    """The space files are validated in: --space, else their zoo headers' (one space), with
    the first header's settings under --set."""
    from automl.plugins import get_space

    named = [h for h in headers if h is not None]
    name = space or (named[0][0] if named else None)
    if name is None:
        raise ValueError(f"{files[0]}: give --space (the file has no zoo header)")
    settings = next((h[1] for h in named if h[0] == name), {})
    return get_space(name, {**settings, **overrides})


def _same_space(expected: str | None, found: str, what: str) -> None:
    if expected is not None and expected != found:
        raise ValueError(f"{what} is in the {found} space, not {expected}")


def _run(work: Any, as_json: bool, doing: str) -> WorkflowReport:
    """`work(sink)`, printing each row as a JSON line as it comes with --json."""
    if as_json:
        return work(_json_line)
    with error_console.status(escape(doing) + " ..."):
        return work(None)


def _json_line(row: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(row) + "\n")
    sys.stdout.flush()


def _print(report: WorkflowReport, as_json: bool, markdown: bool) -> None:
    if not as_json:
        console.print(f"[bold]{escape(report.title)}[/]")
        for metric in report.metrics():
            if report.columns.get(metric, True):  # an empty tuple: no table
                console.print(_table(report, metric))
        if report.summary:
            summary = Table(title="summary", show_header=False)
            for key, value in report.summary.items():
                summary.add_row(escape(key), escape(_cell(value)))
            console.print(summary)
    if markdown:
        if report.markdown is None:
            error_console.print("this report has no markdown table", highlight=False)
        else:
            sys.stdout.write("\n" + report.markdown)


def _table(report: WorkflowReport, metric: str) -> Table:
    rows = report.by_metric(metric)
    columns = report.columns.get(metric) or tuple(dict.fromkeys(
        key for row in rows for key in row if key != "metric"))
    table = Table(title=escape(metric))
    for column in columns:
        table.add_column(escape(column), overflow="fold")
    for row in rows:
        table.add_row(*(escape(_cell(row.get(column))) for column in columns))
    return table


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool | int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return one_line(value)
    text = json.dumps(value, default=str)
    return text if len(text) <= CELL_WIDTH else text[:CELL_WIDTH - 3] + "..."
