"""Which optional extra of the package provides a library, so that a missing one is a one-line
user error naming the extra to install, not an ImportError traceback.

The base install holds what the core and the AutoNumerics space (float64) need; everything
else comes with an extra (``pyproject.toml``): ``ray``, ``jax``, ``optimizers``, ``evonorm``,
``postgres``, ``plots``, ``all``. Imports nothing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping

DISTRIBUTION = "automl-evolution"
EXTRAS = frozenset({"ray", "jax", "optimizers", "evonorm", "postgres", "plots", "all"})

# top-level module -> the extra that installs it
EXTRA_OF_MODULE = {
    "ray": "ray",
    "jax": "jax",
    "jaxlib": "jax",
    "sklearn": "optimizers",  # the optimizer tasks' and EvoNorm's data (sklearn's digits)
    "mnist1d": "optimizers",  # the optimizer tasks' MNIST-1D (generated locally)
    "psycopg": "postgres",
    "matplotlib": "plots",
}


class MissingExtraError(ImportError):
    """A library of an optional extra is not installed; the message names the extra."""


def install_hint(extra: str) -> str:
    return f"pip install '{DISTRIBUTION}[{extra}]' (in a checkout: pip install -e '.[{extra}]')"


def missing_extra(error: BaseException, needed_by: str | None = None,
                  extra: str | None = None) -> MissingExtraError | None:
    """The user error for `error` when it is a module of an extra that is not installed
    (else None). `needed_by` names what wanted it (``"search space 'optimizers'"``); `extra`
    overrides the extra the module maps to (a space's own extra installs all it needs)."""
    if not isinstance(error, ModuleNotFoundError) or not error.name:
        return None
    module = error.name.partition(".")[0]
    if module not in EXTRA_OF_MODULE or importlib.util.find_spec(module) is not None:
        return None  # not an extra's library, or installed but broken: the error says more
    subject = needed_by or "this command"
    return MissingExtraError(f"{subject} needs {module}, which is not installed: "
                             f"{install_hint(extra or EXTRA_OF_MODULE[module])}")


def require(modules: Mapping[str, str], needed_by: str) -> None:
    """Raise `MissingExtraError` for the first of `modules` (module -> the extra that installs
    it) that is not installed; imports none of them."""
    for module, extra in modules.items():
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(f"{needed_by} needs {module}, which is not installed: "
                                    f"{install_hint(extra)}")
