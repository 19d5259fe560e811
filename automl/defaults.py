"""Defaults that several layers name, in a module that imports nothing (the command line reads
them before it loads anything heavy)."""

# where campaigns go without --db, $AUTOML_DB or a config's `database`
DEFAULT_DATABASE = "sqlite:///results/automl.db"
