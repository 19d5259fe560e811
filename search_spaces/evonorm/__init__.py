"""Normalization-activation layers (EvoNorms): programs `y(x, zero, v0, v1)` over NHWC tensors.

`EvoNormSpace` is loaded lazily, so importing the interpreter or the training code does not
import the search-space machinery. `Architecture` (`models.Architecture`) is what a user's
network function returns, named in the settings' `architectures` by an import string
``"package.module:make_net"``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Architecture", "EvoNormSettings", "EvoNormSpace"]


def __getattr__(name: str) -> Any:
    if name == "Architecture":
        from search_spaces.evonorm.models import Architecture

        return Architecture
    if name in __all__:
        from search_spaces.evonorm import space

        return getattr(space, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
