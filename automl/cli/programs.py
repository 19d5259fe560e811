"""The single-program verbs of `automl`: hash, eval, baselines; and `db upgrade`."""

from __future__ import annotations

import math
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from automl.cli.common import (
    DatabaseOption,
    FileArgument,
    JsonOption,
    SettingsOption,
    SpaceOption,
    console,
    database_url,
    format_value,
    load_program,
    open_store,
    parse_settings,
    print_json,
    user_errors,
)


def hash_command(file: FileArgument, space: SpaceOption, settings: SettingsOption = None,
                 as_json: JsonOption = False) -> None:
    """Print the functional hash of a DSL program (32 hex digits)."""
    with user_errors():
        search_space, program = load_program(space, file, settings or [])
        simplified, _ = search_space.simplify(program)
        digest = search_space.fingerprint(simplified)
    if as_json:
        print_json({"file": str(file), "space": space, "functional_hash": digest})
    else:
        sys.stdout.write(digest + "\n")


def eval_command(file: FileArgument, space: SpaceOption, settings: SettingsOption = None,
                 as_json: JsonOption = False) -> None:
    """Evaluate one DSL program and print its objectives."""
    with user_errors():
        search_space, program = load_program(space, file, settings or [])
        search_space.check_requirements()
        simplified, removed = search_space.simplify(program)
        (evaluation,) = search_space.evaluate([simplified])
    payload = {"file": str(file), "space": space, "objectives": evaluation.objectives,
               "metrics": evaluation.metrics, "error": evaluation.error,
               "duration_s": evaluation.duration_s, "simplified_removed": removed,
               "program": search_space.format(simplified)}
    if as_json:
        print_json(payload)
    else:
        if evaluation.error:
            console.print(f"[red]failed:[/] {escape(evaluation.error)}", highlight=False)
        for key, value in (evaluation.objectives or {}).items():
            console.print(f"{key}: {value:.6g}")
        for key, value in evaluation.metrics.items():
            console.print(escape(f"{key}: {value}"), highlight=False)
    if evaluation.error:
        raise typer.Exit(1)


def baselines_command(
    space: Annotated[str, typer.Option("--space", help="Search space name.")] = "autonumerics",
    target: Annotated[str | None, typer.Option(
        "--target", help="AutoNumerics target (same as --set target=NAME).")] = None,
    settings: SettingsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate the space's baseline programs and print their objectives; then what the space
    sets out for comparison (AutoNumerics: every classical family's best at each cost 2-16 on
    validation points, and best_classical, the best of them in the op set; with --json under
    "by_cost", one object per (family, cost, error))."""
    from automl.plugins import get_space

    with user_errors():
        overrides = parse_settings(settings or [])
        if target is not None:
            overrides["target"] = target
        search_space = get_space(space, overrides or None)
        texts = search_space.baselines()
        named = {name: search_space.parse(text, f"baseline {name}")
                 for name, text in texts.items()}
        evaluations = search_space.evaluate(list(named.values()))
        report = search_space.baseline_report()
    objectives = search_space.objectives
    rows = [{"name": name, "objectives": evaluation.objectives, "error": evaluation.error,
             "metrics": evaluation.metrics, "program": texts[name].strip()}
            for name, evaluation in zip(named, evaluations, strict=True)]
    if "cost" in {o.name for o in objectives}:  # cheapest first, then the best error
        order = sorted(objectives, key=lambda o: o.name != "cost")
        rows.sort(key=lambda r: tuple(
            o.to_minimization((r["objectives"] or {}).get(o.name, math.inf)) for o in order))
    if as_json:
        print_json({"space": space, "settings": search_space.settings.model_dump(mode="json"),
                    "baselines": rows, **({"by_cost": list(report.rows)} if report else {})})
        return
    table = Table(title=f"{space} baselines")
    table.add_column("baseline")
    for objective in objectives:
        table.add_column(f"{objective.name} ({objective.direction[:3]})", justify="right")
    table.add_column("program")
    for row in rows:
        values = [format_value(row["objectives"][o.name]) if row["objectives"] else "-"
                  for o in objectives]
        program = row["program"].strip().replace("\n", "; ")
        table.add_row(escape(row["name"]), *values,
                      escape(program if not row["error"] else f"failed: {row['error']}"))
    console.print(table)
    if report is not None:
        console.print(f"[bold]{escape(report.title)}[/]")
        if report.markdown:
            sys.stdout.write(report.markdown)


def db_upgrade(db: DatabaseOption = None) -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    with user_errors(), open_store(database_url(db), create=True, copy_tables=True) as store:
        store.upgrade()
        revision = store.schema_revision()
    console.print(f"schema at revision {revision}")
