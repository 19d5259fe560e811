"""Defaults that several layers name, in a module that imports nothing but the standard
library (the command line reads them before it loads anything heavy)."""

import os

# where campaigns go without --db, $AUTOML_DB or a config's `database`
DEFAULT_DATABASE = "sqlite:///results/automl.db"


def database_url(option: str | None = None, from_config: str | None = None) -> str:
    """Where a campaign's results go: `option` (``--db``, ``automl.run(db=...)``), then
    ``$AUTOML_DB``, then the config's `database`, then `DEFAULT_DATABASE`."""
    return option or os.environ.get("AUTOML_DB") or from_config or DEFAULT_DATABASE
