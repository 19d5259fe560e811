"""User EvoNorm networks for tests/test_user_evonorm.py, imported by import string
(``user_evonorm_nets:tiny_net``) as a user's own module would be."""

from __future__ import annotations

import jax.numpy as jnp

from search_spaces.evonorm import Architecture

__automl_version__ = "1"


def forward(ops, x, classes):
    """One 3x3 convolution to 8 channels, the layer under search, global pooling, a head."""
    x = ops.norm_act(ops.conv("conv", x, 3, 8))
    return ops.dense("head", jnp.mean(x, axis=(1, 2)), classes)


def tiny_net() -> Architecture:
    return Architecture("tiny", forward)


def no_head() -> Architecture:
    return Architecture("no_head", lambda ops, x, classes: ops.norm_act(x))


def no_site() -> Architecture:
    return Architecture("no_site",
                        lambda ops, x, classes: ops.dense("head", jnp.mean(x, (1, 2)), classes))


def returns_function():
    return forward
