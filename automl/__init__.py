"""Evolutionary AutoML search over program spaces.

``automl.open(url)`` opens a results database for reading (see `automl.results`).
"""

from __future__ import annotations

from typing import Any

# the release: stamped on every campaign it creates (pyproject.toml's version must match)
__version__ = "0.2.0"


def open(url: str | None = None) -> Any:  # noqa: A001 - the notebook entry point
    """`automl.results.Results` over the database at `url` (imported lazily: the CLI and the
    workers import `automl` without needing the query layer)."""
    from automl.results import open as open_results

    return open_results(url)
