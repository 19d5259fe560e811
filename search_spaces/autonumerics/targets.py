"""Target functions for AutoNumerics: what a candidate program must approximate, and how well.

A `Target` is a real function on a closed interval, given as an mpmath callable so that the
reference values are computed far beyond float64 precision and then *correctly rounded* to
float64. Candidates are float64 programs, so the only honest ground truth to compare them with
is the float64 nearest to the exact value (Real et al. 2023, "AutoNumerics-Zero").

This module deliberately depends only on numpy and mpmath (not on the rest of the platform):
it works on callables, arrays and text, so the numeric pieces can be developed and tested on
their own.

Error convention (`relative_error`): the search minimises the *maximum relative error* over the
interval, because that is what floating point users care about (a float64 result is only ever
good to a relative precision). Relative error is undefined where the truth is zero, and several
registry targets have such a zero: log on [0.5, 1] and log2 on [1, 2] at x = 1, erf, log1p and
expm1 on [0, 1] at x = 0 (an endpoint), tanh and gelu on [-4, 4] and sin on [-pi/4, pi/4] at
x = 0 (inside); a user's target (a function given by import string) may have one anywhere. We
use the standard mixed relative/absolute error of libm test suites::

    err = |approx - truth| / max(|truth|, ZERO_FLOOR),   ZERO_FLOOR = 2**-52 (float64 epsilon)

Where |truth| >= 2**-52 this is exactly the relative error. Below that (in practice only at the
exact zero and at the one or two floats next to it) the absolute error is measured in units of
2**-52, i.e. in units of one ulp of 1.0, which is the natural scale for these targets (they are
all of order one on their intervals). The convention is continuous in the truth (no jump at the
threshold), always finite for finite inputs (so least-squares fitting on these residuals is
well posed), and still strict: an approximation that misses a zero by 1e-20 scores 4.5e-5 there,
so the search is pushed towards programs that reproduce the zero exactly, e.g. ``(x - 1) * q(x)``
for log, which is what a relative-accuracy approximation near a zero has to do anyway.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np
from mpmath import mp, mpf

__all__ = [
    "PAPER_TARGETS",
    "TARGETS",
    "ZERO_FLOOR",
    "Target",
    "TargetFunctionError",
    "check_target",
    "get_target",
    "ground_truth",
    "relative_error",
    "target_value",
    "training_grid",
    "validation_points",
]

ZERO_FLOOR: float = 2.0**-52
"""Denominator floor of `relative_error`: below this |truth| the error is absolute / 2**-52."""


@dataclass(frozen=True)
class Target:
    """A function to approximate on the closed interval [lower, upper].

    `mp_function` takes and returns an `mpmath.mpf` and must be accurate to the current
    `mp.dps` (all mpmath elementary and special functions are).
    """

    name: str
    lower: float
    upper: float
    mp_function: Callable[[mpf], mpf]

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lower) and math.isfinite(self.upper)):
            raise ValueError(f"target {self.name!r}: interval bounds must be finite")
        if not self.lower < self.upper:
            raise ValueError(f"target {self.name!r}: need lower < upper, got "
                             f"[{self.lower}, {self.upper}]")


def _exp2(x: mpf) -> mpf:
    return mp.power(2, x)


def _log2(x: mpf) -> mpf:
    return mp.log(x, 2)


def _sigmoid(x: mpf) -> mpf:
    return 1 / (1 + mp.exp(-x))


def _gelu(x: mpf) -> mpf:
    # x * Phi(x) in its erf form, Phi(x) = erfc(-x / sqrt 2) / 2 (erfc: no cancellation
    # of 1 + erf(x / sqrt 2) for negative x)
    return x * mp.erfc(-x / mp.sqrt(2)) / 2


def _softplus(x: mpf) -> mpf:
    return mp.log1p(mp.exp(x))


def _rsqrt(x: mpf) -> mpf:
    return 1 / mp.sqrt(x)


_HALF_LN2 = math.log(2.0) / 2.0
_QUARTER_PI = math.pi / 4.0

TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        # the paper's five (Real et al. 2023):
        # 2^x on [0, 1]: the paper's headline problem (range reduction handles the rest).
        Target("exp2", 0.0, 1.0, _exp2),
        # e^x on [-ln2/2, ln2/2]: the symmetric reduced range of exp after x = k ln2 + r.
        Target("exp", -_HALF_LN2, _HALF_LN2, mpmath.exp),
        # log on [0.5, 1] and log2 on [1, 2]: a mantissa range; both have a zero at x = 1.
        Target("log", 0.5, 1.0, mpmath.log),
        Target("log2", 1.0, 2.0, _log2),
        # erf on [0, 1]: zero at x = 0.
        Target("erf", 0.0, 1.0, mpmath.erf),
        # what kernels and ML ask for. Activations on [-4, 4], where they bend (beyond it
        # they are within 7e-4 relative of their asymptotes, which a range split handles);
        # tanh and gelu have a zero at x = 0 inside it.
        Target("tanh", -4.0, 4.0, mpmath.tanh),
        Target("sigmoid", -4.0, 4.0, _sigmoid),
        Target("gelu", -4.0, 4.0, _gelu),
        Target("softplus", -4.0, 4.0, _softplus),
        # sin and cos on [-pi/4, pi/4], the octant argument reduction leaves (sin: zero at 0).
        Target("sin", -_QUARTER_PI, _QUARTER_PI, mpmath.sin),
        Target("cos", -_QUARTER_PI, _QUARTER_PI, mpmath.cos),
        # log1p and expm1 on [0, 1]: zero at x = 0, where log(1 + x) and exp(x) - 1 cancel.
        Target("log1p", 0.0, 1.0, mpmath.log1p),
        Target("expm1", 0.0, 1.0, mpmath.expm1),
        # 1/sqrt(x) on [1, 4]: a mantissa range of two binades (the exponent halves exactly).
        Target("rsqrt", 1.0, 4.0, _rsqrt),
    )
}

# the paper's targets, the first five of TARGETS
PAPER_TARGETS = ("exp2", "exp", "log", "log2", "erf")


class TargetFunctionError(ValueError):
    """A target's function raised, or returned something other than a finite real number."""


def target_value(target: Target, x: float) -> float:
    """The target at the float `x`, rounded to float64 (at the current `mp.dps`). A user's
    function that raises, or returns anything but a finite real number (a string, a complex,
    NaN, infinity), is a one-line `TargetFunctionError` naming the target and x."""
    try:
        value = target.mp_function(mpf(x))
    except Exception as error:
        raise TargetFunctionError(f"target {target.name!r} raised {type(error).__name__} at "
                                  f"x = {x!r}: {_first_line(error)}") from None
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise TargetFunctionError(f"target {target.name!r} returned {type(value).__name__} "
                                  f"at x = {x!r}, not a real number")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise TargetFunctionError(f"target {target.name!r} returned {type(value).__name__} "
                                  f"at x = {x!r}, not a real number") from None
    if not math.isfinite(result):
        raise TargetFunctionError(f"target {target.name!r} returned {result} at x = {x!r}")
    return result


def check_target(target: Target, digits: int = 40) -> None:
    """Try the target at its endpoints and midpoint (cheap: a user's function that cannot
    work is refused in one line before a campaign stores anything; one that fails only
    elsewhere fails each candidate, with the reason, when the training grid is computed)."""
    with mp.workdps(digits):
        for x in (target.lower, (target.lower + target.upper) / 2.0, target.upper):
            target_value(target, x)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else ""


def get_target(name: str) -> Target:
    """The registered target called `name`; a ValueError lists the known names otherwise."""
    try:
        return TARGETS[name]
    except KeyError:
        known = ", ".join(sorted(TARGETS))
        raise ValueError(f"unknown target {name!r}; known targets: {known}") from None


# (target name, its function, digits, sha256 of the points' bytes and shape) -> read-only
# float64 values (the function too: a user's target may share a built-in's name).
# The search space asks for the same grids over and over (every candidate is scored on them),
# and each mpmath evaluation costs ~10 us, so this cache is what keeps scoring cheap.
_GROUND_TRUTH_CACHE: dict[tuple[str, Callable[[mpf], mpf], int, str], np.ndarray] = {}
_GROUND_TRUTH_CACHE_LIMIT = 64


def _points_key(points: np.ndarray) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(points).tobytes())
    digest.update(repr(points.shape).encode())
    return digest.hexdigest()


def ground_truth(target: Target, points: np.ndarray, digits: int = 40) -> np.ndarray:
    """The target at `points`, computed with mpmath at `mp.dps = digits`, rounded to float64.

    Each float64 point is converted to mpf exactly, evaluated with ~`digits` significant
    digits, and rounded to the nearest float64, so the result is the correctly rounded value
    (barring a value within 1e-40 relative of a rounding midpoint). Results are cached per
    process by (target name and function, digits, hash of the points), and returned as a fresh
    writable copy so callers cannot corrupt the cache. A function that raises or returns no
    finite real number at some point is a `TargetFunctionError` (one line, naming x).
    """
    points = np.asarray(points, dtype=np.float64)
    key = (target.name, target.mp_function, int(digits), _points_key(points))
    cached = _GROUND_TRUTH_CACHE.get(key)
    if cached is None:
        if not np.all(np.isfinite(points)):
            raise ValueError("ground_truth: points must be finite")
        with mp.workdps(int(digits)):
            values = [target_value(target, float(p)) for p in points.ravel()]
        cached = np.array(values, dtype=np.float64).reshape(points.shape)
        cached.setflags(write=False)
        if len(_GROUND_TRUTH_CACHE) >= _GROUND_TRUTH_CACHE_LIMIT:
            _GROUND_TRUTH_CACHE.pop(next(iter(_GROUND_TRUTH_CACHE)))  # oldest first
        _GROUND_TRUTH_CACHE[key] = cached
    return cached.copy()


def relative_error(approx: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Pointwise error ``|approx - truth| / max(|truth|, ZERO_FLOOR)`` (see the module doc).

    This is the relative error wherever |truth| >= 2**-52 and the absolute error in units of
    2**-52 at (and immediately around) zeros of the target, where relative error is undefined.
    Non-finite approximations (NaN, +-inf, overflow) get an error of +inf, so that a broken
    candidate can never look good and `max` over the result is meaningful.
    """
    approx = np.asarray(approx, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    with np.errstate(all="ignore"):
        error = np.abs(approx - truth) / np.maximum(np.abs(truth), ZERO_FLOOR)
    return np.where(np.isfinite(error), error, np.inf)


def _exact_endpoints(points: np.ndarray, target: Target) -> np.ndarray:
    points = np.clip(points, target.lower, target.upper)
    points[0], points[-1] = target.lower, target.upper
    return points


def training_grid(target: Target, n: int = 1024) -> np.ndarray:
    """`n` sorted, distinct float64 points covering [lower, upper], both endpoints included.

    Half are the Chebyshev-Lobatto points (extrema of T_{m-1}) and half are uniform. Why: the
    error of a near-minimax approximation equioscillates, and its extrema bunch up towards the
    interval ends like Chebyshev points (density ~ 1/sqrt(1 - t^2)), and the endpoints are
    always extrema; a purely uniform grid under-samples exactly where the maximum error sits,
    so the fitted max error would be optimistic. The uniform half keeps the interior from being
    sampled too thinly (a Chebyshev grid is ~pi/2 times sparser than uniform in the middle),
    which matters for candidates that are far from minimax. Endpoints are exact.
    """
    if n < 2:
        raise ValueError(f"training_grid needs n >= 2 (both endpoints), got {n}")
    lower, upper = target.lower, target.upper
    middle, half = (lower + upper) / 2.0, (upper - lower) / 2.0
    n_chebyshev = max(n // 2, 2)
    angles = np.pi * np.arange(n_chebyshev) / (n_chebyshev - 1)
    chebyshev = middle - half * np.cos(angles)
    uniform = np.linspace(lower, upper, max(n - n_chebyshev + 2, 2))
    points = np.unique(_exact_endpoints(np.concatenate([chebyshev, uniform]), target))
    # Coincident points (endpoints, the midpoint) make the union short: fill the widest gaps.
    while points.size < n:
        gaps = np.diff(points)
        widest = np.argsort(gaps)[::-1][: n - points.size]
        fill = points[widest] + gaps[widest] / 2.0
        points = np.unique(np.concatenate([points, fill]))
    return _exact_endpoints(points, target)  # n + 2 candidates, two shared endpoints: <= n


def validation_points(target: Target, n: int = 10_000, seed: int = 0) -> np.ndarray:
    """`n` sorted float64 points: both endpoints plus n - 2 uniform random interior points.

    Independent of the training grid (a fit can overfit the points it saw; a random grid
    checks the error between them), reproducible through `seed`, and always containing the
    endpoints, where minimax errors peak.
    """
    if n < 2:
        raise ValueError(f"validation_points needs n >= 2 (both endpoints), got {n}")
    rng = np.random.default_rng(seed)
    inner = rng.uniform(target.lower, target.upper, size=n - 2)
    points = np.sort(np.concatenate([[target.lower], inner, [target.upper]]))
    return _exact_endpoints(points, target)
