"""User target functions for tests/test_user_targets.py, imported by import string
(``user_target_functions:gelu``) as a user's own module would be: pytest puts tests/ on
sys.path; a subprocess gets it through PYTHONPATH."""

from __future__ import annotations

from mpmath import mp

__automl_version__ = "1"


def gelu(x):
    """GELU, x * Phi(x), written as a user would (erf form)."""
    return x * (1 + mp.erf(x / mp.sqrt(2))) / 2


def shifted_sin(x):
    """sin(x - 0.3): a zero inside [-1, 1] that is not 0."""
    return mp.sin(x - mp.mpf("0.3"))


def versioned(x):
    return mp.exp(x)


versioned.__automl_version__ = "7"


def returns_text(x):
    return "not a number"


def returns_complex(x):
    return mp.sqrt(x)  # complex for x < 0


def raises(x):
    raise RuntimeError("the user's function broke")


def nan_inside(x):
    """Finite at the ends and the middle of [-1, 1], NaN on (0.4, 0.6) (training grid points)."""
    return mp.nan if 0.4 < x < 0.6 else mp.exp(x)


NOT_CALLABLE = 3.0
