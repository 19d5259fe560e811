"""The `automl` command: run campaigns, inspect them, hash and evaluate single programs.

User errors (bad config, program text, database URL, unknown space) print one line,
``error: ...``, and exit with status 2; no traceback.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from automl.config import DEFAULT_DATABASE, ConfigError, load_config
from automl.ir import ProgramError
from automl.store import Store, StoreError, safe_url
from search_spaces.base import SearchSpace, UnknownSpaceError, best_values, get_space

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Evolutionary AutoML search over program spaces.")
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
app.add_typer(db_app, name="db")
console = Console()
error_console = Console(stderr=True, soft_wrap=True)  # errors stay on one line

USER_ERRORS = (ConfigError, StoreError, ProgramError, UnknownSpaceError, ValueError, OSError)

DatabaseOption = Annotated[str | None, typer.Option(
    "--db", help=f"Database URL (default: $AUTOML_DB or {DEFAULT_DATABASE}).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except USER_ERRORS as error:
        error_console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None


def database_url(option: str | None, from_config: str | None = None) -> str:
    """--db, then $AUTOML_DB, then the config's `database`, then the default."""
    return option or os.environ.get("AUTOML_DB") or from_config or DEFAULT_DATABASE


def open_store(url: str, create: bool = False) -> Store:
    """The store at `url`. Only commands that write a campaign (or `db upgrade`) `create` a
    missing SQLite file (and its directory); the others say it is missing."""
    if create and url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return Store.open(url, create=create)


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return str(value)


def _format_value(value: float) -> str:
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3e}"


def _one_line(program: str) -> str:
    return "; ".join(line for line in program.strip().splitlines())


@app.command()
def run(
    config_path: Annotated[Path, typer.Argument(metavar="CONFIG", help="Campaign YAML file.")],
    db: DatabaseOption = None,
    max_evals: Annotated[int | None, typer.Option("--max-evals", help="Evaluation budget.")] = None,
    seed: Annotated[int | None, typer.Option(help="Campaign seed.")] = None,
    executor: Annotated[str | None, typer.Option(help="local or ray.")] = None,
    name: Annotated[str | None, typer.Option(help="Campaign name (unique).")] = None,
    address: Annotated[str | None, typer.Option(
        help="Ray cluster to run on (auto, ray://HOST:10001, HOST:6379); implies "
             "--executor ray.")] = None,
    detach: Annotated[bool, typer.Option(
        "--detach", help="Run the controller on the cluster as a detached actor and return; "
                         "follow with `automl status`, end early with `automl stop`.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run a campaign from a YAML config; ends by printing the Pareto front."""
    from automl.controller import CampaignController

    with user_errors():
        overrides: dict[str, Any] = {}
        if address is not None:
            overrides["executor.kind"] = "ray"
            overrides["executor.address"] = address
        if max_evals is not None:
            overrides["budget.max_evaluations"] = max_evals
        if seed is not None:
            overrides["seed"] = seed
        if executor is not None:
            overrides["executor.kind"] = executor
        config = load_config(config_path, overrides)
        url = database_url(db, config.database)
        store = open_store(url, create=True)
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{int(time.time() * 1000) % 1000:03d}"
        campaign_name = name or f"{config.name or config_path.stem}-{stamp}"
        if detach:
            _run_detached(config, store, campaign_name, url, as_json)
            return
        with _progress_bar(config.budget.max_evaluations, quiet=as_json) as on_progress:
            controller = CampaignController.create(config, store, campaign_name,
                                                   on_progress=on_progress)
            summary = controller.run()
        store.close()
    _print_summary(summary, controller.space, url, as_json)


def _run_detached(config: Any, store: Store, name: str, url: str, as_json: bool) -> None:
    from automl.controller import CampaignController
    from workers.campaign_actor import start_detached
    from workers.ray_executor import ensure_ray

    if config.executor.kind != "ray":
        raise ValueError("--detach runs the campaign on a Ray cluster: give --address "
                         "(e.g. --address auto) or executor.kind: ray")
    if url.startswith("sqlite") and config.executor.address not in (None, "auto", "local"):
        error_console.print("[yellow]warning:[/] a SQLite database is only reachable from a "
                            "cluster on this machine", highlight=False)
    CampaignController.create(config, store, name)  # a taken name fails here, not remotely
    store.close()
    ensure_ray(config.executor.address, dashboard=config.executor.dashboard)
    start_detached(url, name)
    if as_json:
        _print_json({"campaign": name, "detached": True, "database": safe_url(url)})
    else:
        console.print(f"campaign [bold]{escape(name)}[/] runs on the cluster; follow it with "
                      f"`automl status {escape(name)} --db {escape(safe_url(url))}`, stop it "
                      f"with `automl stop {escape(name)} --address ...`")


@app.command()
def stop(
    campaign: Annotated[str, typer.Argument(help="Campaign name.")],
    address: Annotated[str, typer.Option(help="Its Ray cluster (auto, ray://HOST:10001).")
                       ] = "auto",
) -> None:
    """Ask a detached campaign to stop at a safe point (what is in flight is stored)."""
    from workers.campaign_actor import stop_detached
    from workers.ray_executor import ensure_ray

    with user_errors():
        ensure_ray(address)
        if not stop_detached(campaign):
            raise ValueError(f"no detached campaign {campaign!r} runs on the cluster at "
                             f"{address}")
    console.print(f"campaign {escape(campaign)}: stop requested")


@app.command()
def resume(
    campaign: Annotated[str, typer.Argument(help="Campaign id or name.")],
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Continue a stopped or crashed campaign from the database alone (population, cache,
    counters; candidates that were in flight are evaluated again, once)."""
    from automl.controller import CampaignController

    with user_errors():
        url = database_url(db)
        store = open_store(url)
        key: int | str = int(campaign) if campaign.isdigit() else campaign
        budget = store.get_campaign(key, counts=False).config["budget"]["max_evaluations"]
        with _progress_bar(budget, quiet=as_json) as on_progress:
            controller = CampaignController.resume(store, key, on_progress=on_progress)
            summary = controller.run()
        store.close()
    _print_summary(summary, controller.space, url, as_json)


def _print_summary(summary: Any, space: SearchSpace, url: str, as_json: bool) -> None:
    """What `run` and `resume` print at the end; exit 130 when stopped by Ctrl-C."""
    if as_json:
        _print_json({
            "campaign": summary.campaign.name, "id": summary.campaign.id,
            "status": summary.campaign.status, "candidates": summary.candidates,
            "evaluations": summary.evaluations, "failed": summary.failed,
            "duplicates": summary.duplicates, "cache_hit_rate": summary.cache_hit_rate,
            "seconds": summary.seconds, "hypervolume": summary.hypervolume,
            "restarts": summary.restarts,
            "front": [{"candidate": m.number, "objectives": m.objectives, "program": m.program}
                      for m in summary.front],
        })
    else:
        console.print(
            f"campaign [bold]{escape(summary.campaign.name)}[/] (id {summary.campaign.id}) "
            f"{summary.campaign.status}: {summary.candidates} candidates, "
            f"{summary.evaluations} evaluations, {summary.failed} failed, cache hit rate "
            f"{summary.cache_hit_rate:.1%}, {summary.seconds:.1f} s"
            + (f", hypervolume {summary.hypervolume:.4g}"
               if summary.hypervolume is not None else "")
            + (f", {summary.restarts} restarts from the best" if summary.restarts else ""))
        console.print(f"database: {safe_url(url)}")
        _front_table(space, summary.front)
    if summary.stopped:
        raise typer.Exit(130)  # the shell's convention for "ended by Ctrl-C"


def _front_table(space: SearchSpace, front: list) -> None:
    table = Table(title="Pareto front")
    table.add_column("candidate", justify="right")
    for objective in space.objectives:
        table.add_column(f"{objective.name} ({objective.direction[:3]})", justify="right")
    table.add_column("program")
    for member in front:
        table.add_row(str(member.number),
                      *[_format_value(member.objectives[o.name]) for o in space.objectives],
                      escape(_one_line(member.program)))
    console.print(table)


@contextmanager
def _progress_bar(total: int, quiet: bool) -> Iterator[Callable | None]:
    if quiet:
        yield None
        return
    with Progress(TextColumn("[bold]evaluations"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[details]}"), TimeElapsedColumn(),
                  console=error_console, transient=False) as bar:
        task = bar.add_task("run", total=total, details="")
        last = [0.0]

        def on_progress(progress: Any) -> None:
            now = time.monotonic()
            if now - last[0] < 0.1 and progress.evaluations < total:
                return
            last[0] = now
            best = ", ".join(f"{k}={_format_value(v)}" for k, v in progress.best.items())
            bar.update(task, completed=progress.evaluations,
                       details=f"cands {progress.candidates} hits {progress.cache_hit_rate:.0%}"
                               f" failed {progress.failed} {best}")

        yield on_progress


@app.command("ls")
def list_campaigns(db: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """List campaigns in the database."""
    with user_errors(), open_store(database_url(db)) as store:
        campaigns = store.list_campaigns()
    if as_json:
        _print_json([{"id": c.id, "name": c.name, "space": c.space, "status": c.status,
                      "seed": c.seed, "candidates": c.candidate_count,
                      "evaluations": c.evaluation_count, "created_at": c.created_at}
                     for c in campaigns])
        return
    table = Table(title="campaigns")
    for column in ("id", "name", "space", "status", "seed", "candidates", "evaluations",
                   "created"):
        table.add_column(column)
    for c in campaigns:
        table.add_row(str(c.id), escape(c.name), escape(c.space), c.status, str(c.seed),
                      str(c.candidate_count),
                      str(c.evaluation_count),
                      time.strftime("%Y-%m-%d %H:%M", time.localtime(c.created_at)))
    console.print(table)


@app.command()
def status(
    campaign: Annotated[str, typer.Argument(help="Campaign id or name.")],
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Counts by candidate status, cache statistics and best objective values."""
    with user_errors(), open_store(database_url(db)) as store:
        record = store.get_campaign(int(campaign) if campaign.isdigit() else campaign)
        counts = store.status_counts(record.id)
        rejections = store.rejection_reasons(record.id) if counts.get("rejected") else {}
        evaluations = store.load_evaluations(record.id)
    space = get_space(record.space, record.config.get("space", {}).get("settings"))
    best = best_values(space.objectives, (e.objectives for e in evaluations))
    total = sum(counts.values())
    hit_rate = counts.get("duplicate", 0) / total if total else 0.0
    payload = {"id": record.id, "name": record.name, "space": record.space,
               "status": record.status, "seed": record.seed, "candidates": total,
               "by_status": counts, "rejected_by_reason": rejections,
               "cache_hit_rate": hit_rate, "best": best}
    if as_json:
        _print_json(payload)
        return
    table = Table(title=f"campaign {escape(record.name)} (id {record.id}): {record.status}",
                  show_header=False)
    table.add_row("space", record.space)
    table.add_row("seed", str(record.seed))
    table.add_row("candidates", str(total))
    for key, value in sorted(counts.items()):
        table.add_row(f"  {key}", str(value))
        if key == "rejected":
            for reason, count in rejections.items():
                table.add_row(f"    {escape(reason)}", str(count))
    table.add_row("cache hit rate", f"{hit_rate:.1%}")
    for key, value in best.items():
        table.add_row(f"best {key}", _format_value(value))
    console.print(table)


def _load_program(space_name: str, file: Path, settings: list[str]) -> tuple[SearchSpace, Any]:
    space = get_space(space_name, _parse_settings(settings))
    text = file.read_text()
    return space, space.parse(text, str(file))


def _parse_settings(pairs: list[str]) -> dict[str, Any]:
    import yaml

    settings: dict[str, Any] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator:
            raise ValueError(f"--set expects KEY=VALUE, got {pair!r}")
        settings[key.strip()] = yaml.safe_load(value)
    return settings


SpaceOption = Annotated[str, typer.Option("--space", help="Search space name.")]
SettingsOption = Annotated[list[str], typer.Option(
    "--set", help="Space setting KEY=VALUE (repeatable).")]
FileArgument = Annotated[Path, typer.Argument(metavar="FILE", help="DSL program file.")]


@app.command("hash")
def hash_command(file: FileArgument, space: SpaceOption, settings: SettingsOption = None,
                 as_json: JsonOption = False) -> None:
    """Print the functional hash of a DSL program (32 hex digits)."""
    with user_errors():
        search_space, program = _load_program(space, file, settings or [])
        simplified, _ = search_space.simplify(program)
        digest = search_space.fingerprint(simplified)
    if as_json:
        _print_json({"file": str(file), "space": space, "functional_hash": digest})
    else:
        sys.stdout.write(digest + "\n")


@app.command("eval")
def eval_command(file: FileArgument, space: SpaceOption, settings: SettingsOption = None,
                 as_json: JsonOption = False) -> None:
    """Evaluate one DSL program and print its objectives."""
    with user_errors():
        search_space, program = _load_program(space, file, settings or [])
        simplified, removed = search_space.simplify(program)
        (evaluation,) = search_space.evaluate([simplified])
    payload = {"file": str(file), "space": space, "objectives": evaluation.objectives,
               "metrics": evaluation.metrics, "error": evaluation.error,
               "duration_s": evaluation.duration_s, "simplified_removed": removed,
               "program": search_space.format(simplified)}
    if as_json:
        _print_json(payload)
    else:
        if evaluation.error:
            console.print(f"[red]failed:[/] {escape(evaluation.error)}", highlight=False)
        for key, value in (evaluation.objectives or {}).items():
            console.print(f"{key}: {value:.6g}")
        for key, value in evaluation.metrics.items():
            console.print(escape(f"{key}: {value}"), highlight=False)
    if evaluation.error:
        raise typer.Exit(1)


@app.command("baselines")
def baselines_command(
    space: Annotated[str, typer.Option("--space", help="Search space name.")] = "autonumerics",
    target: Annotated[str | None, typer.Option(
        "--target", help="AutoNumerics target (same as --set target=NAME).")] = None,
    settings: SettingsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate the space's baseline programs and print their objectives (for AutoNumerics:
    Taylor, Pade, minimax and fitted Horner forms with their error at each cost)."""
    with user_errors():
        overrides = _parse_settings(settings or [])
        if target is not None:
            overrides["target"] = target
        search_space = get_space(space, overrides or None)
        texts = search_space.baselines()
        named = {name: search_space.parse(text, f"baseline {name}")
                 for name, text in texts.items()}
        evaluations = search_space.evaluate(list(named.values()))
    objectives = search_space.objectives
    rows = [{"name": name, "objectives": evaluation.objectives, "error": evaluation.error,
             "metrics": evaluation.metrics, "program": texts[name].strip()}
            for name, evaluation in zip(named, evaluations, strict=True)]
    if "cost" in {o.name for o in objectives}:  # cheapest first, then the best error
        order = sorted(objectives, key=lambda o: o.name != "cost")
        rows.sort(key=lambda r: tuple(
            o.to_minimization((r["objectives"] or {}).get(o.name, math.inf)) for o in order))
    if as_json:
        _print_json({"space": space, "settings": search_space.settings.model_dump(mode="json"),
                     "baselines": rows})
        return
    table = Table(title=f"{space} baselines")
    table.add_column("baseline")
    for objective in objectives:
        table.add_column(f"{objective.name} ({objective.direction[:3]})", justify="right")
    table.add_column("program")
    for row in rows:
        values = [_format_value(row["objectives"][o.name]) if row["objectives"] else "-"
                  for o in objectives]
        program = row["program"].strip().replace("\n", "; ")
        table.add_row(escape(row["name"]), *values,
                      escape(program if not row["error"] else f"failed: {row['error']}"))
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(db: DatabaseOption = None) -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    with user_errors(), open_store(database_url(db), create=True) as store:
        store.upgrade()
        revision = store.schema_revision()
    console.print(f"schema at revision {revision}")


def main() -> None:
    app()


from automl import cli_cluster  # noqa: E402,F401,I001  (registers submit)
from automl import cli_query  # noqa: E402,F401  (registers the query verbs on `app`)
