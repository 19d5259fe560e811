"""Unified functional hash (Gillard et al. 2023): hash what a function computes, not its text.

Any Python callable of numpy arrays is run on fixed, seeded probe inputs; its outputs are
quantized and hashed with xxh3_128. Because only outputs count, a parsed program, a hand-written
function and an exported module hash alike when they compute the same thing, and renamed
registers, dead statements, commuted operands or algebraic rewrites do not change the hash.

Quantization *rounds* the mantissa to `mantissa_bits` instead of truncating it: truncation puts
1.9999999999999998 and 2.0 (the same value up to round-off) into different buckets, which is the
commonest way two equivalent programs differ. NaN (any payload) maps to one value, -0.0 to 0.0.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import xxhash

from automl.ir import Program, run_numpy
from automl.ops import CORE_OPS, OpTable

DEFAULT_MANTISSA_BITS = 24
_FLOAT64_MANTISSA_BITS = 52
_SIGN = np.uint64(1 << 63)
_CANONICAL_NAN = np.uint64(0x7FF8000000000000)

Probe = Mapping[str, Any]


def quantize(values: np.ndarray, mantissa_bits: int = DEFAULT_MANTISSA_BITS) -> np.ndarray:
    """Round float values to `mantissa_bits` of mantissa; return their canonical bit patterns."""
    if not 0 <= mantissa_bits <= _FLOAT64_MANTISSA_BITS:
        raise ValueError(f"mantissa_bits must be in 0..52, got {mantissa_bits}")
    array = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    bits = array.view(np.uint64)
    sign = bits & _SIGN
    magnitude = bits & ~_SIGN
    dropped = _FLOAT64_MANTISSA_BITS - mantissa_bits
    if dropped:
        half = np.uint64(1 << (dropped - 1))
        mask = ~np.uint64((1 << dropped) - 1)
        finite = magnitude < np.uint64(0x7FF0000000000000)
        # adding half an ULP before masking rounds to nearest; a carry moves into the exponent,
        # which is exactly right for IEEE-754 (and rounds the largest values up to inf)
        magnitude = np.where(finite, (magnitude + half) & mask, magnitude)
    result = sign | magnitude
    result[np.isnan(array)] = _CANONICAL_NAN
    result[magnitude == 0] = 0  # -0.0 -> 0.0
    return result


def _flatten_outputs(outputs: Any) -> list[np.ndarray]:
    if isinstance(outputs, Mapping):
        outputs = list(outputs.values())
    if isinstance(outputs, list | tuple):
        flat: list[np.ndarray] = []
        for item in outputs:
            flat.extend(_flatten_outputs(item))
        return flat
    return [np.asarray(outputs, dtype=np.float64)]


def functional_hash(
    function: Callable[..., Any],
    probes: Probe | Sequence[Probe],
    mantissa_bits: int = DEFAULT_MANTISSA_BITS,
) -> str:
    """Hash of `function`'s outputs on the probe inputs (keyword arguments), as 32 hex digits.

    `probes` is one mapping of argument name -> array, or a sequence of them (several seeds or
    input shapes). Outputs may be an array, a tuple/list or a dict of arrays (in order).
    """
    if isinstance(probes, Mapping):
        probes = [probes]
    digest = xxhash.xxh3_128()
    with np.errstate(all="ignore"):
        for probe in probes:
            for output in _flatten_outputs(function(**probe)):
                digest.update(np.asarray(output.shape, dtype=np.int64).tobytes())
                digest.update(quantize(output, mantissa_bits).tobytes())
    return digest.hexdigest()


def program_function(program: Program, registry: OpTable = CORE_OPS) -> Callable[..., tuple]:
    """The program as a callable of keyword arrays returning its outputs in order.

    Extra keyword arguments (probe values for constants the program does not use) are ignored.
    """
    needed = (*program.inputs, *program.parameters)

    def function(**values: Any) -> tuple:
        outputs = run_numpy(program, {name: values[name] for name in needed}, registry)
        return tuple(outputs.values())

    return function


def hash_program(program: Program, probes: Probe | Sequence[Probe],
                 mantissa_bits: int = DEFAULT_MANTISSA_BITS, registry: OpTable = CORE_OPS) -> str:
    return functional_hash(program_function(program, registry), probes, mantissa_bits)


def settings_hash(settings: Any) -> str:
    """Stable hash of JSON-able evaluation settings (key order does not matter)."""
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=_json_default)
    return xxhash.xxh3_128_hexdigest(text.encode())


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Iterable):
        return list(value)
    raise TypeError(f"cannot hash settings value of type {type(value).__name__}")
