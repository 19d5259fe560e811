"""Evolutionary AutoML search over program spaces.

``automl.run(config)`` creates and runs a campaign as ``automl run`` does (see `automl.api`);
``automl.open(url)`` opens a results database for reading (see `automl.results`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from automl.api import CampaignRun

# the release: stamped on every campaign it creates (pyproject.toml's version must match)
from automl.version import __version__

__all__ = ["__version__", "open", "run"]


def open(url: str | None = None) -> Any:  # noqa: A001 - the notebook entry point
    """`automl.results.Results` over the database at `url` (imported lazily: the CLI and the
    workers import `automl` without needing the query layer)."""
    from automl.results import open as open_results

    return open_results(url)


def run(config: Any, *, db: str | None = None, name: str | None = None,
        max_evals: int | None = None, seed: int | None = None,
        set: Mapping[str, Any] | None = None,  # noqa: A002 - the CLI's --set, as a mapping
        progress: Any = None) -> CampaignRun:
    """Create a campaign from `config` (a YAML path, a mapping or a `CampaignConfig`) and run
    it as ``automl run`` does; returns its `automl.api.CampaignRun` (name, id, summary,
    ``.results()``). Ctrl-C stops it at a safe point. See `automl.api.run` (imported lazily,
    like `open`)."""
    from automl.api import run as run_campaign

    return run_campaign(config, db=db, name=name, max_evals=max_evals, seed=seed, set=set,
                        progress=progress)
