"""A correctly rounded fused multiply-add for float64 numpy arrays: ``fma(a, b, c)`` is
``a * b + c`` rounded once (to nearest, ties to even), as IEEE 754's fusedMultiplyAdd.

numpy has no fma (``a * b + c`` rounds twice: the product, then the sum), and Python's
``math.fma`` arrived in 3.13. This module needs numpy alone and is vectorised:

1. ``(uh, ul) = two_product(a, b)``: ``uh + ul == a * b`` exactly (Dekker's product with
   Veltkamp's split);
2. ``(th, tl) = two_sum(c, uh)``: ``th + tl == c + uh`` exactly (Knuth's TwoSum);
3. ``v = add_round_to_odd(tl, ul)``: ``tl + ul`` rounded *to odd* (the float next to the
   exact sum whose last mantissa bit is 1, unless the sum is a float): TwoSum, then one step
   towards the exact sum where the rounded one is even and inexact;
4. ``z = th + v``, rounded to nearest.

Boldo and Melquiond proved that z is ``a * b + c`` correctly rounded (S. Boldo, G. Melquiond,
"Emulation of FMA and correctly rounded sums: proved algorithms using rounding to odd", IEEE
Transactions on Computers 57(4), 2008; checked in Coq), for any precision p >= 5 and
without overflow or underflow. Naive ``th + (tl + ul)`` is *not* always correctly rounded:
rounding ``tl + ul`` to nearest can make ``th + v`` look like a tie (or hide one).

Where those steps are exact (`fast_path`): a and b finite, nonzero and within [2^-1021,
2^995] in magnitude (so Veltkamp's split neither overflows nor leaves a subnormal part),
2^-968 <= |a * b| <= 2^1021 (the product's low part ``ul`` is then a multiple of
ulp(a) ulp(b) >= 2^-1073, exact), |c| <= 2^1021 (no sum overflows). Below the underflow
threshold every value involved is a multiple of 2^-1074, so ``tl + ul`` is exact where it is
tiny and the odd rounding only acts on normal numbers. Also there: a or b zero (the other
within 2^995, c finite), whose product is an exact signed zero, so the steps return c; an
exact zero result is then signed by IEEE's rule (``uh + c``: the sum of signed zeros, or +0
for a cancellation). Everything else:

- a, b or c infinite or NaN: IEEE fma's value. ``a * b + c`` is that, except where a and b
  are finite, their rounded product overflows and c is infinite (fma(2^600, 2^600, -inf) is
  -inf, not NaN): there the result is c;
- the remaining finite inputs (huge or tiny exponents, a product that overflows while
  ``a * b + c`` is finite, results in the subnormal range): the exact rational value
  ``a * b + c`` in Python integers, rounded to the nearest float64 once (ties to even; ±inf
  past the overflow threshold, as IEEE rounding to nearest does). One at a time, in Python:
  slow, and rare where programs compute.

Complex arrays (the complex-step derivative of a fit) get ``a * b + c``: the derivative of
fma is that of ``a * b + c``, and the imaginary part carries the derivative, not the rounding
of the real part (which complex-step differentiation never looks at). Anything real is
computed in float64 and returned as float64.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["add_round_to_odd", "fast_path", "fma", "two_product", "two_sum"]

_SPLITTER = 134217729.0  # 2^27 + 1: Veltkamp's split of a 53-bit significand into 26 + 26
_INPUT_MIN, _INPUT_MAX = 2.0**-1021, 2.0**995
_PRODUCT_MIN, _PRODUCT_MAX = 2.0**-968, 2.0**1021


def two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(s, e) with s = a + b rounded and s + e == a + b exactly (no overflow)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = _SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


def two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p, e) with p = a * b rounded and p + e == a * b exactly (Dekker; in `fast_path`)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def add_round_to_odd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b rounded to odd: the sum where it is a float, else of the two floats around it
    the one whose last significand bit is 1 (no overflow). On the bits: the rounded sum
    truncated towards zero (one step down in magnitude where it rounded away from zero), its
    last bit then set where the sum was inexact."""
    s, e = two_sum(a, b)
    inexact = e != 0
    # where e's sign differs from s's, s lies beyond the exact sum: it was rounded away from 0
    rounded_away = inexact & ((s.view(np.int64) ^ e.view(np.int64)) < 0)
    bits = (s.view(np.int64) - rounded_away) | inexact
    return bits.view(np.float64)


def _fast_everywhere(a: np.ndarray, b: np.ndarray, c: np.ndarray, uh: np.ndarray) -> bool:
    """Whether every element is on `fast_path`: first by the extremes of each input (one
    reduction each; a constant costs nothing), then, where a factor is 0 (x = 0 on a grid),
    elementwise."""
    def extremes(values: np.ndarray) -> tuple[float, float]:  # NaN where one is NaN
        if np.ndim(values) == 0:
            magnitude = abs(float(values))
            return magnitude, magnitude
        magnitude = np.abs(values)
        return float(magnitude.min()), float(magnitude.max())

    (a_min, a_max), (b_min, b_max), (p_min, p_max) = extremes(a), extremes(b), extremes(uh)
    if not (a_max <= _INPUT_MAX and b_max <= _INPUT_MAX and p_max <= _PRODUCT_MAX
            and extremes(c)[1] <= _PRODUCT_MAX):
        return False
    if a_min >= _INPUT_MIN and b_min >= _INPUT_MIN and p_min >= _PRODUCT_MIN:
        return True
    # every input is finite now (a NaN or inf fails its maximum): the lower bounds, zero
    # factors aside
    return bool(np.all((a == 0) | (b == 0) | ((np.abs(a) >= _INPUT_MIN)
                                              & (np.abs(b) >= _INPUT_MIN)
                                              & (np.abs(uh) >= _PRODUCT_MIN))))


def fast_path(a: np.ndarray, b: np.ndarray, c: np.ndarray, product: np.ndarray) -> np.ndarray:
    """Where the vectorised steps are exact (the module doc), elementwise; `product` is
    ``a * b``. A zero factor with finite inputs is too: its product is an exact signed zero,
    and TwoSum then returns c; only the sign of a zero result needs IEEE's rule (`fma`)."""
    magnitude_a, magnitude_b, magnitude_p = np.abs(a), np.abs(b), np.abs(product)
    split = (magnitude_a <= _INPUT_MAX) & (magnitude_b <= _INPUT_MAX)  # (False for NaN)
    return split & (((magnitude_a >= _INPUT_MIN) & (magnitude_b >= _INPUT_MIN)
                      & (magnitude_p >= _PRODUCT_MIN) & (magnitude_p <= _PRODUCT_MAX)
                      & (np.abs(c) <= _PRODUCT_MAX))
                     | (((a == 0) | (b == 0)) & np.isfinite(c)))


def _zero_signs(z: np.ndarray, uh: np.ndarray, c: np.ndarray) -> np.ndarray:
    """`z` with each exact zero signed as IEEE's fma signs it. On `fast_path` z is 0 only
    where a * b + c is exactly 0 (every value there is a multiple of 2^-1074): a zero
    product plus a zero c, whose sign ``uh + c`` has (uh is the product, an exact signed
    zero), or a cancellation, +0, which ``uh + c`` is too (uh = a * b = -c exactly)."""
    return z if np.all(z) else np.where(z == 0, uh + c, z)


def _exact(a: float, b: float, c: float) -> float:
    """a * b + c for finite floats, rounded once to the nearest float64 (ties to even)."""
    value = Fraction(a) * Fraction(b) + Fraction(c)
    if value == 0:  # an exact signed zero product keeps IEEE's sign rules; a cancellation: +0
        return a * b + c if a == 0 or b == 0 else 0.0
    try:  # int / int is correctly rounded in CPython (subnormal results included)
        return value.numerator / value.denominator
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def fma(a: Any, b: Any, c: Any) -> Any:
    """``a * b + c`` with one rounding, elementwise over broadcast arrays (or scalars: a
    float64 scalar comes back); complex inputs get ``a * b + c``."""
    if np.iscomplexobj(a) or np.iscomplexobj(b) or np.iscomplexobj(c):
        return a * b + c
    # a 0-d input (a constant) as a numpy scalar: its ufunc calls cost less than an array's
    a, b, c = (np.asarray(v, dtype=np.float64) for v in (a, b, c))
    a, b, c = (v[()] if v.ndim == 0 else v for v in (a, b, c))
    with np.errstate(all="ignore"):
        uh, ul = two_product(a, b)
        th, tl = two_sum(c, uh)
        z = th + add_round_to_odd(tl, ul)
        if _fast_everywhere(a, b, c, uh):
            z = _zero_signs(z, uh, c)
        else:
            z = _outside_fast_path(a, b, c, uh, z)
    return z[()] if np.ndim(z) == 0 else z


def _outside_fast_path(a: np.ndarray, b: np.ndarray, c: np.ndarray, uh: np.ndarray,
                       z: np.ndarray) -> np.ndarray:
    """`z` with every element outside `fast_path` replaced (the module doc's cases)."""
    shape = np.broadcast_shapes(*(np.shape(v) for v in (a, b, c, uh, z)))
    a, b, c, uh, z = (np.broadcast_to(v, shape).reshape(-1) for v in (a, b, c, uh, z))
    fast = fast_path(a, b, c, uh)
    finite = np.isfinite(a) & np.isfinite(b)
    special = ~finite | ~np.isfinite(c)
    # IEEE's fma where an input is not finite (a * b + c is, with one exception:)...
    z = _zero_signs(np.where(fast, z, np.where(special, uh + c, np.nan)), uh, c)
    z = np.where(finite & np.isinf(c), c, z)  # ...not NaN where a * b overflowed
    for i in np.flatnonzero(~fast & ~special):
        z[i] = _exact(float(a[i]), float(b[i]), float(c[i]))
    return z.reshape(shape)
