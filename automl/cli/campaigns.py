"""The campaign verbs of `automl`: run, resume, ls, status. Each ends as the controller
ends; `run --detach` hands the campaign to a launcher plug-in (the Ray one in ``workers/``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from automl.cli.common import (
    DatabaseOption,
    JsonOption,
    campaign_key,
    console,
    database_url,
    error_console,
    format_value,
    one_line,
    open_store,
    print_json,
    user_errors,
)

if TYPE_CHECKING:  # imported when a command runs, not to show --help
    from automl.config import CampaignConfig
    from automl.space import SearchSpace
    from automl.store import Store


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
    from automl.config import load_config
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
        config = load_config(config_path, overrides, flags={
            "executor.kind": "--executor" if executor is not None else "--address",
            "executor.address": "--address", "budget.max_evaluations": "--max-evals",
            "seed": "--seed"})
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


def _run_detached(config: CampaignConfig, store: Store, name: str, url: str,
                  as_json: bool) -> None:
    """Create the campaign here (a taken name or a bad config fails in this terminal), then
    let the executor's launcher (`automl.plugins.LAUNCHERS`) continue it elsewhere."""
    from automl.controller import CampaignController
    from automl.plugins import LAUNCHERS
    from automl.store import safe_url

    if config.executor.kind not in LAUNCHERS:
        raise ValueError("--detach runs the campaign on a Ray cluster: give --address "
                         "(e.g. --address auto) or executor.kind: ray")
    if url.startswith("sqlite") and config.executor.address not in (None, "auto", "local"):
        error_console.print("[yellow]warning:[/] a SQLite database is only reachable from a "
                            "cluster on this machine", highlight=False)
    CampaignController.create(config, store, name)
    store.close()
    LAUNCHERS.load(config.executor.kind)(config, url, name)
    if as_json:
        print_json({"campaign": name, "detached": True, "database": safe_url(url)})
    else:
        console.print(f"campaign [bold]{escape(name)}[/] runs on the cluster; follow it with "
                      f"`automl status {escape(name)} --db {escape(safe_url(url))}`, stop it "
                      f"with `automl stop {escape(name)} --address ...`")


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
        key = campaign_key(campaign)
        budget = store.get_campaign(key, counts=False).config["budget"]["max_evaluations"]
        with _progress_bar(budget, quiet=as_json) as on_progress:
            controller = CampaignController.resume(store, key, on_progress=on_progress)
            summary = controller.run()
        store.close()
    _print_summary(summary, controller.space, url, as_json)


def _print_summary(summary: Any, space: SearchSpace, url: str, as_json: bool) -> None:
    """What `run` and `resume` print at the end; exit 130 when stopped by Ctrl-C."""
    from automl.store import safe_url

    if as_json:
        print_json({
            "campaign": summary.campaign.name, "id": summary.campaign.id,
            "status": summary.campaign.status, "candidates": summary.candidates,
            "evaluations": summary.evaluations, "failed": summary.failed,
            "duplicates": summary.duplicates, "cache_hit_rate": summary.cache_hit_rate,
            "seconds": summary.seconds, "hypervolume": summary.hypervolume,
            "restarts": summary.restarts,
            "front": [{"candidate": m.number, "objectives": m.objectives, "program": m.payload}
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
                      *[format_value(member.objectives[o.name]) for o in space.objectives],
                      escape(one_line(member.payload)))
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
            best = ", ".join(f"{k}={format_value(v)}" for k, v in progress.best.items())
            bar.update(task, completed=progress.evaluations,
                       details=f"cands {progress.candidates} hits {progress.cache_hit_rate:.0%}"
                               f" failed {progress.failed} {best}")

        yield on_progress


def list_campaigns(db: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """List campaigns in the database."""
    with user_errors(), open_store(database_url(db)) as store:
        campaigns = store.list_campaigns()
    if as_json:
        print_json([{"id": c.id, "name": c.name, "space": c.space, "status": c.status,
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


def status(
    campaign: Annotated[str, typer.Argument(help="Campaign id or name.")],
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Counts by candidate status, cache statistics and best objective values."""
    with user_errors(), open_store(database_url(db)) as store:
        record = store.get_campaign(campaign_key(campaign))
        counts = store.status_counts(record.id)
        rejections = store.rejection_reasons(record.id) if counts.get("rejected") else {}
        from automl.plugins import get_space

        space = get_space(record.space, record.config.get("space", {}).get("settings"))
        # indexed, so that status answers at once at 10^6 evaluations
        best = store.best_values(record.id, [(o.name, o.direction) for o in space.objectives])
    total = sum(counts.values())
    hit_rate = counts.get("duplicate", 0) / total if total else 0.0
    payload = {"id": record.id, "name": record.name, "space": record.space,
               "status": record.status, "seed": record.seed, "candidates": total,
               "by_status": counts, "rejected_by_reason": rejections,
               "cache_hit_rate": hit_rate, "best": best}
    if as_json:
        print_json(payload)
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
        table.add_row(f"best {key}", format_value(value))
    console.print(table)
