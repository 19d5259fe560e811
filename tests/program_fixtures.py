"""Signatures, sample programs and helpers shared by the program tests.

Imported as a plain module (``from program_fixtures import ...``): pytest's default
``prepend`` import mode puts ``tests/`` on ``sys.path``. Only what several test files
define identically lives here; what one file needs alone stays in that file.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from automl.evolution.mutations import MutationSettings, mutate
from automl.ir import OPS, Op, OpRegistry, Program, Signature

NUMERICS = Signature(inputs=("x",), outputs=("f",), parameter_pattern=r"c\d+")
XYZ = Signature(inputs=("x", "y", "z"), outputs=("f",))


def optimizer_registry() -> OpRegistry:
    """A fresh registry: the global ops plus the optimizer ops, without touching OPS."""
    reg = OpRegistry()
    for name in OPS.names():
        reg.register(OPS.get(name))
    if "interp" not in reg:  # the optimizer space may have registered it
        reg.register(Op("interp", 3, lambda x, y, a: (1 - a) * x + a * y, doc="(1-a)*x + a*y"))
    if "sign" not in reg:  # the optimizer space may have registered it
        reg.register(Op("sign", 1, np.sign, doc="sign"))
    return reg


REG = optimizer_registry()
OPTIMIZER = Signature(inputs=("w", "g", "m", "v", "lr"), outputs=("update", "m", "v"),
                      registry=REG)
ADAM = """
m = interp(m, g, 0.1)
v = interp(v, g * g, 0.001)
update = lr * m / (sqrt(v) + 1e-8)
"""

ARITHMETIC = ("add", "sub", "mul", "div")
OPTIMIZER_MUTATIONS = MutationSettings(
    ops=("add", "sub", "mul", "div", "interp", "sign", "sqrt"), literal_probability=0.3
)

HYPOTHESIS = settings(max_examples=60, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])
# non-empty lists of mutation seeds (test_mutations.py draws its own, possibly empty, histories)
SEEDS = st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=15)


def mutated(seed: Program, signature: Signature, mutation: MutationSettings,
            seeds: list[int]) -> Program:
    """`seed` after one `mutate` per entry of `seeds`, each with its own generator."""
    p = seed
    for s in seeds:
        p, _ = mutate(p, mutation, signature, np.random.default_rng(s))
    return p


# EvoNorm settings for tests that train layers (one cheap network, few steps, 8 statements).
# Every test that trains with these compiles the same trainer for a length-8 batch, so after
# the first one it comes from the test run's XLA compilation cache (conftest.py): ~10 s each.
EVONORM_TRAINING = {"architectures": ["resnet"], "steps": 20, "max_nodes": 8}
