"""The campaign verbs of `automl`: run, resume, ls, status. Each ends as the controller
ends; `run --detach` hands the campaign to a launcher plug-in (the Ray one in ``workers/``).

`run` and `resume` refuse an existing SQLite file that ``PRAGMA quick_check`` finds damaged
(before writing anything); `ls` and `status` warn about one and go on. `status` and `ls` tell a
live campaign from a dead one by its lease (`automl.lease`): running, stale, stopped, failed
(with the reason) or finished."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from automl.api import named_campaign
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
    print_table,
    user_errors,
)
from automl.progress_bar import progress_bar

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
        store = open_store(url, create=True, verify=True)
        stem = config.name or config_path.stem
        if detach:
            _run_detached(config, store, name, stem, url, as_json)
            return
        with progress_bar(config.budget.max_evaluations, quiet=as_json) as on_progress:
            controller = named_campaign(store, name, stem, lambda campaign_name: (
                CampaignController.create(config, store, campaign_name,
                                          on_progress=on_progress)))
            summary = controller.run()
        store.close()
    _print_summary(summary, controller.space, url, as_json)


def _run_detached(config: CampaignConfig, store: Store, name: str | None, stem: str, url: str,
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
    # no lease here: the launched controller's resume takes it at once
    name = named_campaign(store, name, stem, lambda campaign_name: CampaignController.create(
        config, store, campaign_name, hold_lease=False)).campaign.name
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
    force: Annotated[bool, typer.Option(
        "--force", help="Take the campaign over even while its owner's heartbeat is recent "
                        "(only when that owner is known to be dead).")] = False,
    max_evals: Annotated[int | None, typer.Option(
        "--max-evals", help="New evaluation budget (extends a finished campaign).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Continue a stopped, failed or crashed (stale) campaign from the database alone
    (population, cache, counters; candidates that were in flight are evaluated again, once).
    Refused while a live owner runs it."""
    from automl.controller import CampaignController
    from automl.store.errors import LeaseHeld

    with user_errors():
        if max_evals is not None and max_evals < 1:
            raise ValueError(f"--max-evals: Input should be greater than or equal to 1 "
                             f"(got {max_evals})")
        url = database_url(db)
        store = open_store(url, verify=True)
        key = campaign_key(campaign)
        record = store.get_campaign(key, counts=False)
        if record.status == "finished" and max_evals is None:
            _already_finished(store.get_campaign(record.id), as_json)
            store.close()
            return
        budget = max_evals or record.config["budget"]["max_evaluations"]
        try:
            with progress_bar(budget, quiet=as_json) as on_progress:
                controller = CampaignController.resume(store, key, force=force,
                                                       max_evaluations=max_evals,
                                                       on_progress=on_progress)
                summary = controller.run()
        except LeaseHeld as held:
            raise ValueError(f"cannot resume {record.name!r}: {held}; it is alive unless its "
                             f"heartbeat stops for {_grace(record):g} s (resume --force if "
                             f"that owner is known to be dead)") from None
        store.close()
    _print_summary(summary, controller.space, url, as_json)


def _already_finished(record: Any, as_json: bool) -> None:
    budget = record.config["budget"]["max_evaluations"]
    if as_json:
        print_json({"campaign": record.name, "id": record.id, "status": "finished",
                    "resumed": False, "evaluations": record.evaluation_count,
                    "max_evaluations": budget})
        return
    console.print(f"campaign [bold]{escape(record.name)}[/] (id {record.id}) is finished: "
                  f"{record.evaluation_count} evaluations of its budget of {budget}; nothing "
                  f"to resume (`automl resume {escape(record.name)} --max-evals N` extends "
                  f"it)", highlight=False)


def _grace(record: Any) -> float:
    from automl.lease import grace_of

    return grace_of(record)


# `ls` and `status` check files up to this size only: quick_check reads every page (1.2 s at
# 10^6 candidates, 425 MiB: scripts/bench_quick_check.py), and they answer at once at any size
READ_CHECK_MAX_BYTES = 64 * 2**20


def _warn_if_damaged(url: str) -> None:
    """A command that only reads: one warning line about a damaged SQLite file, then on."""
    from automl.store import StoreError
    from automl.store.engine import parse_url, sqlite_file
    from automl.store.integrity import damage_message, sqlite_problems

    try:
        path = sqlite_file(parse_url(url))
    except StoreError:  # a bad URL: open_store says so in one line
        return
    if path is None or not path.exists() or path.stat().st_size > READ_CHECK_MAX_BYTES:
        return
    try:
        problems = sqlite_problems(path)
    except StoreError:  # locked or busy right now: no verdict, and reading goes on
        return
    if problems:
        message = damage_message(path, problems, "what it shows may be wrong")
        error_console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False)


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
    table = Table(title=f"Pareto front, by {escape(space.objectives[0].name)}")
    table.add_column("candidate", justify="right")
    for objective in space.objectives:
        table.add_column(f"{objective.name} ({objective.direction[:3]})", justify="right")
    table.add_column("program")
    for member in front:
        table.add_row(str(member.number),
                      *[format_value(member.objectives[o.name]) for o in space.objectives],
                      escape(one_line(member.payload)))
    console.print(table)


def list_campaigns(db: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """List campaigns in the database."""
    from automl.lease import liveness

    with user_errors():
        url = database_url(db)
        _warn_if_damaged(url)
        with open_store(url) as store:
            campaigns = store.list_campaigns()
    if as_json:
        print_json([{"id": c.id, "name": c.name, "space": c.space, "status": c.status,
                      "seed": c.seed, "candidates": c.candidate_count,
                      "evaluations": c.evaluation_count, "created_at": c.created_at,
                      **_lease_fields(c)}
                     for c in campaigns])
        return
    table = Table(title="campaigns")
    for column in ("id", "name", "space", "status", "seed", "candidates", "evaluations",
                   "created"):
        table.add_column(column)
    for c in campaigns:
        table.add_row(str(c.id), escape(c.name), escape(c.space), escape(liveness(c)[1]),
                      str(c.seed),
                      str(c.candidate_count),
                      str(c.evaluation_count),
                      time.strftime("%Y-%m-%d %H:%M", time.localtime(c.created_at)))
    print_table(table, whole=("name",))


def status(
    campaign: Annotated[str, typer.Argument(help="Campaign id or name.")],
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Liveness (running, stale, stopped, failed with the reason, finished), counts by
    candidate status, cache statistics and best objective values."""
    from automl.lease import liveness

    with user_errors():
        url = database_url(db)
        _warn_if_damaged(url)
        store = open_store(url)
    with user_errors(), store:
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
               "cache_hit_rate": hit_rate, "best": best, **_lease_fields(record)}
    if as_json:
        print_json(payload)
        return
    table = Table(title=f"campaign {escape(record.name)} (id {record.id}): "
                        f"{escape(liveness(record)[1])}", show_header=False)
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


def _lease_fields(record: Any) -> dict[str, Any]:
    """The lease in `--json`: `liveness` (running, stale, stopped, failed, finished), the
    words shown, the owner, the heartbeat's age in seconds, the failure's reason."""
    from automl.lease import heartbeat_age, liveness

    state, words = liveness(record)
    return {"liveness": state, "status_text": words, "owner": record.owner,
            "heartbeat_age_s": heartbeat_age(record), "failure": record.failure}
