"""`automl.run`: create and run a campaign from Python, as `automl run CONFIG` does.

The same core path as the command line: the config validated (`automl.config`), the database
chosen as ``--db`` chooses it (`db`, then ``$AUTOML_DB``, then the config's ``database``), an
existing SQLite file that ``quick_check`` finds damaged refused before anything is written, the
store opened with ``create=True``, then ``CampaignController.create(...).run()``. What it
returns, `CampaignRun`, is a value: the campaign's name, id, database and closing summary, and
`CampaignRun.results()` opens the read-only `Results` view (`automl.open`).

The command line's `automl run` is built on the same pieces, which live here in the core:
`make_sqlite_directory` and `named_campaign` (the default name ``STEM-N``), with
`automl.defaults.database_url` and `automl.progress_bar.progress_bar`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.defaults import database_url

if TYPE_CHECKING:
    from automl.config import CampaignConfig
    from automl.progress import CampaignSummary, Progress
    from automl.results import Results

__all__ = ["CampaignRun", "make_sqlite_directory", "named_campaign", "run"]

ProgressOption = bool | Callable[["Progress"], None] | None


@dataclass(frozen=True)
class CampaignRun:
    """A campaign `automl.run` created and ran: its `name` and `id` in the database at `url`
    (not shown by repr: a PostgreSQL URL may carry a password) and the `summary` the run ended
    with (counts, front, hypervolume; `summary.stopped` after Ctrl-C)."""

    name: str
    id: int
    url: str = field(repr=False)
    summary: CampaignSummary = field(repr=False)

    def results(self) -> Results:
        """The read-only results view of this campaign's database, as ``automl.open(url)``
        (``.results().front(run.name)``, ``.candidates(run.name)``, ...)."""
        from automl.results import open as open_results

        return open_results(self.url)


def run(config: str | os.PathLike[str] | Mapping[str, Any] | CampaignConfig, *,
        db: str | None = None, name: str | None = None, max_evals: int | None = None,
        seed: int | None = None, set: Mapping[str, Any] | None = None,  # noqa: A002
        progress: ProgressOption = None) -> CampaignRun:
    """Create a campaign from `config` and run it to its end; return its `CampaignRun`.

    `config`: a YAML file's path, a mapping of the same fields (values may be Python objects
    where a field takes one, e.g. an AutoNumerics target's function), or a `CampaignConfig`.
    Overrides, as the command line's options: `max_evals` (``budget.max_evaluations``),
    `seed`, and `set`, a mapping of dotted fields to values (``{"budget.max_seconds": 60,
    "space.settings.target": "tanh"}``); `name` names the campaign (default, as ``automl
    run`` names it: ``STEM-N`` with the next free N in the database, STEM the config's
    ``name``, else the file's stem, else the space's name). `db`: the database URL; default
    ``$AUTOML_DB``, else the config's ``database``. A config error raises
    `automl.config.ConfigError` (one line naming the field) before anything is stored.

    `progress`: None shows a one-line progress report on stderr only when stderr is a
    terminal (not in a notebook or a log file); False never; True always; a callable gets
    each `automl.progress.Progress` instead.

    Ctrl-C (SIGINT, a notebook's "interrupt kernel") while it runs in the main thread stops
    the campaign at a safe point, as on the command line: what is in flight finishes, every
    result is stored, the campaign is marked stopped (``automl resume`` continues it) and
    this returns normally with ``summary.stopped`` true. A second Ctrl-C interrupts at once
    (KeyboardInterrupt; what finished is stored). From another thread Ctrl-C is not caught.
    """
    from automl.config import CampaignConfig, config_from_mapping, load_config
    from automl.controller import CampaignController
    from automl.store import Store

    overrides: dict[str, Any] = dict(set or {})
    if max_evals is not None:
        overrides["budget.max_evaluations"] = max_evals
    if seed is not None:
        overrides["seed"] = seed
    stem = None
    if isinstance(config, CampaignConfig):
        campaign_config = config_from_mapping(config.model_dump(), "<CampaignConfig>",
                                              overrides)
    elif isinstance(config, Mapping):
        campaign_config = config_from_mapping(config, "<config>", overrides)
    elif isinstance(config, (str, os.PathLike)):
        campaign_config = load_config(config, overrides)
        stem = Path(config).stem
    else:
        raise TypeError(f"automl.run: config must be a path, a mapping or a CampaignConfig, "
                        f"not {type(config).__name__}")
    url = database_url(db, campaign_config.database)
    make_sqlite_directory(url)
    store = Store.open(url, create=True, verify=True)
    try:
        with _progress(progress, campaign_config.budget.max_evaluations) as report:
            controller = named_campaign(
                store, name, campaign_config.name or stem or campaign_config.space.name,
                lambda campaign_name: CampaignController.create(
                    campaign_config, store, campaign_name, on_progress=report))
            summary = controller.run()
    finally:
        store.close()
    return CampaignRun(name=summary.campaign.name, id=summary.campaign.id, url=url,
                       summary=summary)


def named_campaign(store: Any, name: str | None, stem: str, create: Callable[[str], Any]
                   ) -> Any:
    """`create(name)`; without a name `create("stem-N")` with the next free N in the database
    (`exp2-1`, `exp2-2`, ...: names a person can type back), taking the next N when another
    process took this one at the same moment (`CampaignExists`)."""
    from automl.store import CampaignExists

    if name:
        return create(name)
    for _ in range(20):
        try:
            return create(store.numbered_name(stem))
        except CampaignExists:
            continue
    raise CampaignExists(f"no free campaign name {stem}-N after 20 tries: name one")


def make_sqlite_directory(url: str) -> None:
    """A new SQLite file's directory (``results/`` on a first run) is made by what writes a
    campaign; a reader finds it missing instead (`Store.open` refuses a missing directory)."""
    from sqlalchemy.engine import make_url

    from automl.store.engine import sqlite_file

    try:
        path = sqlite_file(make_url(url))
    except Exception:  # noqa: BLE001 - a malformed URL: Store.open says so in one line
        return
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _progress(progress: ProgressOption, total: int) -> Any:
    """A context giving the controller's `on_progress`: the caller's callable, nothing
    (False), or the progress bar (`automl.progress_bar`) on stderr, when that is a terminal
    (None) or always (True)."""
    from rich.console import Console

    from automl.progress_bar import progress_bar

    if callable(progress) and not isinstance(progress, bool):
        return nullcontext(progress)
    if progress is False:
        return nullcontext(None)
    console = Console(stderr=True, force_terminal=True) if progress else None
    return progress_bar(total, console=console)
