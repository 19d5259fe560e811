"""The schema's tables (`models`), as every module of the store imports them, and the
objective directions the store accepts."""

from __future__ import annotations

from .errors import StoreError
from .models import (  # noqa: F401 - the tables, re-exported for the store's modules
    CACHE_ENTRIES,
    CAMPAIGNS,
    CANDIDATES,
    EVALUATIONS,
    FRONT_MEMBERS,
    IN_FLIGHT,
    OBJECTIVE_VALUES,
)

DIRECTIONS = ("minimize", "maximize")


def check_direction(direction: str, what: str = "direction") -> None:
    """`StoreError` unless `direction` is one of `DIRECTIONS`."""
    if direction not in DIRECTIONS:
        raise StoreError(f"{what} {direction!r} is not one of {DIRECTIONS}")
