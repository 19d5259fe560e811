"""The query verbs of `automl`: top, pareto, show, lineage, export, reproduce, report, compare,
zoo. They read through `automl.results` (indexes and the maintained front: fast at 10^6
evaluations)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from automl.cli.common import (
    CampaignArgument,
    DatabaseOption,
    JsonOption,
    SettingsOption,
    console,
    database_url,
    error_console,
    file_or_reference,
    format_value,
    one_line,
    open_results,
    parse_settings,
    print_json,
    print_table,
    user_errors,
)

if TYPE_CHECKING:  # imported when a command runs, not to show --help
    from automl.results import CandidateInfo, Results

CandidateArgument = Annotated[str, typer.Argument(
    metavar="CANDIDATE", help="CAMPAIGN:NUMBER, e.g. lion-digits:42.")]


def _candidate_json(candidate: CandidateInfo) -> dict[str, Any]:
    return {"candidate": candidate.ref, "number": candidate.number, "status": candidate.status,
            "objectives": candidate.objectives, "program": candidate.program,
            "parents": list(candidate.parents), "mutation": candidate.mutation,
            "functional_hash": candidate.functional_hash,
            "duplicate_of": candidate.duplicate_of, "duplicates": candidate.duplicates,
            "simplified_removed": candidate.simplified_removed, "error": candidate.error,
            "metrics": candidate.metrics}


def _candidates_table(results: Results, campaign: str, title: str,
                      candidates: list[CandidateInfo], made_by: bool = False) -> Table:
    table = Table(title=escape(title))
    table.add_column("candidate", justify="right")
    if made_by:
        table.add_column("made by")
    objectives = results.objectives(campaign)
    for objective in objectives:
        table.add_column(f"{objective.name} ({objective.direction[:3]})", justify="right")
    table.add_column("program")
    for candidate in candidates:
        values = candidate.objectives or {}
        table.add_row(str(candidate.number),
                      *([escape(candidate.mutation or "seed")] if made_by else []),
                      *[format_value(values[o.name]) if o.name in values else "-"
                        for o in objectives],
                      escape(one_line(candidate.program)))
    return table


def top(
    campaign: CampaignArgument,
    k: Annotated[int, typer.Option("-k", min=1, help="How many.")] = 10,
    objective: Annotated[str | None, typer.Option(help="Rank by (default: the first).")] = None,
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """The best K evaluated candidates by one objective."""
    with user_errors(), open_results(database_url(db)) as results:
        best = results.top(campaign, k, objective)
        name = objective or results.objectives(campaign)[0].name
        if as_json:
            print_json([_candidate_json(c) for c in best])
            return
        console.print(_candidates_table(results, campaign, f"top {k} by {name}", best))


def pareto(
    campaign: CampaignArgument,
    plot: Annotated[Path | None, typer.Option(
        help="Also draw the front to this file (format from the suffix: .png, .svg, .pdf, "
             "...).")] = None,
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """The Pareto front over all evaluations (optionally plotted)."""
    with user_errors(), open_results(database_url(db)) as results:
        front = results.pareto(campaign)
        if plot is not None:
            from automl.report import image_format_of, plot_front

            image = plot_front(results, campaign, image_format=image_format_of(plot))
            plot.write_bytes(image)
        if as_json:
            print_json([_candidate_json(c) for c in front])
            return
        first = results.objectives(campaign)[0].name
        console.print(_candidates_table(results, campaign, f"Pareto front, by {first}", front))
        if plot is not None:
            console.print(f"plot: {escape(str(plot))}")


def show(candidate: CandidateArgument, db: DatabaseOption = None,
         as_json: JsonOption = False) -> None:
    """One candidate: its program, objectives, and how it was made."""
    with user_errors(), open_results(database_url(db)) as results:
        info = results.candidate(candidate)
    if as_json:
        print_json(_candidate_json(info))
        return
    console.print(f"[bold]{escape(info.ref)}[/] ({info.status}), hash {info.functional_hash}")
    console.print(Syntax(info.program.rstrip("\n"), "python", theme="ansi_dark",
                         background_color="default"))
    table = Table(show_header=False)
    for name, value in (info.objectives or {}).items():
        table.add_row(name, format_value(value))
    made = f"{info.mutation or 'seed'}" + (
        f" of {', '.join(map(str, info.parents))}" if info.parents else "")
    table.add_row("made by", escape(made))
    if info.duplicate_of is not None:
        table.add_row("result of", f"candidate {info.duplicate_of} (cache hit)")
    table.add_row("cache hits answered", str(info.duplicates))
    table.add_row("simplification", f"{info.simplified_removed} statement(s) removed")
    if info.error:
        table.add_row("error", escape(info.error))
    for key, value in info.metrics.items():
        table.add_row(escape(str(key)), escape(str(value)))
    console.print(table)


def lineage(candidate: CandidateArgument, db: DatabaseOption = None,
            as_json: JsonOption = False) -> None:
    """The chain of ancestors back to the seed, with mutation and objectives at each step."""
    with user_errors(), open_results(database_url(db)) as results:
        chain = results.lineage(candidate)
        if as_json:
            print_json([_candidate_json(c) for c in chain])
            return
        console.print(_candidates_table(results, chain[0].campaign, f"lineage of {candidate}",
                                        chain, made_by=True))


def export(
    target: Annotated[str, typer.Argument(
        metavar="CANDIDATE|FILE", help="CAMPAIGN:NUMBER, or a DSL file (with --space).")],
    format: Annotated[str, typer.Option(
        "--format", help="dsl, python (numpy), jax, or zoo (a stored candidate as a zoo file: "
                         "settings, objectives and fitted constants in its header).")] = "python",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here.")] = None,
    space: Annotated[str | None, typer.Option(help="Space of a DSL file.")] = None,
    settings: SettingsOption = None,
    db: DatabaseOption = None,
) -> None:
    """A standalone module (numpy or jax only), the DSL text of a program, or a zoo file."""
    from automl.plugins import get_space
    from automl.zoo import entry_text, read_program_file

    with user_errors():
        if format not in ("dsl", "python", "jax", "zoo"):
            raise ValueError(f"--format {format!r}: choose dsl, python, jax or zoo")
        path = file_or_reference(target)
        metrics: dict[str, Any] = {}
        if path is not None and format == "zoo":
            raise ValueError(f"{path}: --format zoo exports a stored candidate (CAMPAIGN:NUMBER)")
        if path is not None:
            # a zoo file's header gives its space, settings and fitted constants
            text, entry = read_program_file(path)
            header_space, header_settings = (entry.space, entry.settings) if entry else (None, {})
            metrics = entry.metrics if entry else {}
            name = space or header_space
            if name is None:
                raise ValueError(f"{path}: give --space (the file has no zoo header)")
            search_space = get_space(name, {**header_settings, **parse_settings(settings or [])})
            program = search_space.parse(text, str(path))
        else:
            with open_results(database_url(db)) as results:
                info = results.candidate(target, with_duplicates=False)
                search_space = results.space(info.campaign)
                program = search_space.parse(info.program, info.ref)
                metrics = info.metrics
                campaign = results.campaign(info.campaign)
        if format == "zoo":
            if not info.objectives:
                raise ValueError(f"{info.ref} has no objectives ({info.status})")
            source = entry_text(
                search_space.name, search_space.settings.model_dump(mode="json"),
                info.objectives, search_space.format(program), metrics.get("constants"),
                f"campaign {campaign.name} (seed {campaign.seed}), candidate {info.number}",
                str(output) if output is not None else "FILE", metrics.get("fit_start"),
                metrics.get("float32_constants"))
        elif format == "dsl":
            source = search_space.format(program)
        else:
            source = search_space.export(program, format, metrics)
        if output is None:
            sys.stdout.write(source)
        else:
            output.write_text(source)
            error_console.print(f"wrote {escape(str(output))}")


def reproduce(
    target: Annotated[str, typer.Argument(
        metavar="CANDIDATE|FILE", help="CAMPAIGN:NUMBER, or a zoo file.")],
    rtol: Annotated[float, typer.Option(help="Relative tolerance per objective.")] = 1e-6,
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Re-evaluate a stored candidate (or zoo file) and compare with what was recorded;
    exits 1 when an objective differs beyond --rtol."""
    from automl import reproduce as reproducing
    from automl.zoo import read_entry

    with user_errors():
        path = file_or_reference(target)
        if path is not None:
            outcome = reproducing.reproduce_entry(read_entry(path), rtol)
        else:
            with open_results(database_url(db)) as results:
                outcome = reproducing.reproduce_candidate(results, target, rtol)
    if as_json:
        print_json({"target": outcome.what, "ok": outcome.ok, "error": outcome.error,
                     "warnings": outcome.warnings, "rtol": rtol,
                     "objectives": [{"name": c.name, "recorded": c.recorded,
                                     "reproduced": c.reproduced, "ok": c.ok,
                                     "measured": c.measured}
                                    for c in outcome.checks]})
    else:
        for warning in outcome.warnings:
            error_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
        table = Table(title=f"reproduce {escape(outcome.what)} (rtol {rtol:g})")
        for column in ("objective", "recorded", "reproduced", ""):
            table.add_column(column)
        for check in outcome.checks:
            table.add_row(check.name, f"{check.recorded:.10g}",
                          "-" if check.reproduced is None else f"{check.reproduced:.10g}",
                          "measured (not compared)" if check.measured
                          else "[green]ok[/]" if check.ok else "[red]differs[/]")
        console.print(table)
        if outcome.error:
            console.print(f"[red]re-evaluation failed:[/] {escape(outcome.error)}")
    if not outcome.ok:
        raise typer.Exit(1)


def report(
    campaign: CampaignArgument,
    out: Annotated[Path, typer.Option(
        "--out", help="The page: FILE.html, or a folder for index.html.")],
    baselines: Annotated[bool, typer.Option(help="Evaluate the space's baselines.")] = True,
    db: DatabaseOption = None,
) -> None:
    """A self-contained HTML report: hypervolume, cache hits, front, top programs."""
    from automl.report import write_report

    with user_errors(), open_results(database_url(db)) as results:
        page = write_report(results, campaign, out, baselines=baselines)
    console.print(f"report: {escape(str(page))}")


def compare(
    campaigns: Annotated[list[str], typer.Argument(metavar="CAMPAIGN...", help="Two or more.")],
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Best value of every objective and the front's hypervolume, side by side."""
    with user_errors(), open_results(database_url(db)) as results:
        rows = []
        for campaign in campaigns:
            info = results.campaign(campaign)
            rows.append({"campaign": info.name, "space": info.space,
                         "evaluations": info.evaluations, "best": results.best(campaign),
                         "hypervolume": results.hypervolume(campaign)})
    if as_json:
        print_json(rows)
        return
    names = list(dict.fromkeys(name for row in rows for name in row["best"]))
    table = Table(title="comparison")
    table.add_column("")
    for row in rows:
        table.add_column(escape(row["campaign"]), justify="right")
    table.add_row("space", *[escape(row["space"]) for row in rows])
    table.add_row("evaluations", *[str(row["evaluations"]) for row in rows])
    for name in names:
        table.add_row(f"best {name}", *[format_value(row["best"][name])
                                        if name in row["best"] else "-" for row in rows])
    table.add_row("hypervolume", *["-" if row["hypervolume"] is None
                                   else f"{row['hypervolume']:.6g}" for row in rows])
    console.print(table)


def zoo(as_json: JsonOption = False) -> None:
    """The programs this project discovered (each space's discovered/ folder)."""
    from automl.zoo import entries

    with user_errors():
        found = entries()
    if as_json:
        print_json([{"name": e.name, "space": e.space, "file": e.relative_path,
                      "objectives": e.objectives, "settings": e.settings,
                      "found_by": e.found_by} for e in found])
        return
    table = Table(title="discovered programs (automl reproduce FILE re-evaluates one)")
    for column in ("file", "objectives"):  # the space is the path's second folder
        table.add_column(column)
    for e in found:
        table.add_row(escape(e.relative_path),
                      ", ".join(f"{k}={format_value(v)}" for k, v in e.objectives.items()))
    print_table(table, whole=("file",))
