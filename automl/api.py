"""`automl.run`: create and run a campaign from Python, as `automl run CONFIG` does.

The same core path as the command line: the config validated (`automl.config`), the database
chosen as ``--db`` chooses it (`db`, then ``$AUTOML_DB``, then the config's ``database``), an
existing SQLite file that ``quick_check`` finds damaged refused before anything is written, the
store opened with ``create=True``, then ``CampaignController.create(...).run()``. What it
returns, `CampaignRun`, is a value: the campaign's name, id, database and closing summary, and
`CampaignRun.results()` opens the read-only `Results` view (`automl.open`).

(``database_url``, the parent directory made for a new SQLite file and the default campaign
name, ``STEM-N``, are copied from ``automl/cli/`` in a few lines: the core imports no
command-line module.)
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from automl.defaults import DEFAULT_DATABASE

if TYPE_CHECKING:
    from automl.config import CampaignConfig
    from automl.progress import CampaignSummary, Progress
    from automl.results import Results

__all__ = ["CampaignRun", "run"]

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
    from automl.store.engine import parse_url
    from automl.store.integrity import refuse_damaged

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
    url = db or os.environ.get("AUTOML_DB") or campaign_config.database or DEFAULT_DATABASE
    _make_sqlite_directory(url)
    refuse_damaged(parse_url(url))
    store = Store.open(url, create=True)
    try:
        report = _progress_callback(progress, campaign_config.budget.max_evaluations)
        controller = _named(store, name, campaign_config.name or stem
                            or campaign_config.space.name,
                            lambda campaign_name: CampaignController.create(
                                campaign_config, store, campaign_name, on_progress=report))
        try:
            summary = controller.run()
        finally:
            if isinstance(report, _LineReport):
                report.close()
    finally:
        store.close()
    return CampaignRun(name=summary.campaign.name, id=summary.campaign.id, url=url,
                       summary=summary)


def _named(store: Any, name: str | None, stem: str, create: Callable[[str], Any]) -> Any:
    """`create(name)`, or without a name `create("stem-N")` with the next free N (`exp2-1`,
    `exp2-2`, ...), the next N when another process took this one at the same moment: as
    ``automl run`` names campaigns (copied from ``automl/cli/campaigns.py``)."""
    from automl.store import CampaignExists

    if name:
        return create(name)
    for _ in range(20):
        try:
            return create(store.numbered_name(stem))
        except CampaignExists:
            continue
    raise CampaignExists(f"no free campaign name {stem}-N after 20 tries: give name=")


def _make_sqlite_directory(url: str) -> None:
    """A new SQLite file's directory is made, as ``automl run`` makes it."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True,
                                                                       exist_ok=True)


class _LineReport:
    """A one-line progress report rewritten in place on a terminal:
    ``automl: 120/1000 evaluations, hits 12%, failed 3, best max_relative_error 2.5e-05``."""

    REFRESH_SECONDS = 0.2

    def __init__(self, total: int, stream: IO[str]):
        self.total, self.stream, self.last = total, stream, 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self.last < self.REFRESH_SECONDS and progress.evaluations < self.total:
            return
        self.last = now
        text = (f"automl: {progress.evaluations}/{self.total} evaluations, hits "
                f"{progress.cache_hit_rate:.0%}, failed {progress.failed}")
        for objective, value in list(progress.best.items())[:1]:
            text += f", best {objective} {value:.4g}"
        self.stream.write("\r" + text[:100].ljust(100))
        self.stream.flush()

    def close(self) -> None:
        if self.last:  # something was written: end its line
            self.stream.write("\n")
            self.stream.flush()


def _progress_callback(progress: ProgressOption, total: int
                       ) -> Callable[[Progress], None] | None:
    if callable(progress) and not isinstance(progress, bool):
        return progress
    if progress is False:
        return None
    stream = sys.stderr
    if progress is None and not (hasattr(stream, "isatty") and stream.isatty()):
        return None
    return _LineReport(total, stream)
