"""The `automl` command line: the top layer, above the core, the spaces and the Ray workers,
which it reaches only through the plug-in registries (`automl.plugins`)."""

from automl.cli.app import app, main

__all__ = ["app", "main"]
