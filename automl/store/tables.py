"""The model tables as SQLAlchemy Core `Table`s, which every module of the store reads and
writes through: Core statements run as executemany batches and return plain rows, and records
cross the store's boundary as the dataclasses of `records`, never as ORM objects."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from .errors import StoreError
from .models import (
    CacheEntry,
    Campaign,
    Candidate,
    Evaluation,
    FrontMember,
    InFlightCandidate,
    ObjectiveValue,
)

CAMPAIGNS = cast(Table, Campaign.__table__)
CANDIDATES = cast(Table, Candidate.__table__)
EVALUATIONS = cast(Table, Evaluation.__table__)
CACHE_ENTRIES = cast(Table, CacheEntry.__table__)
OBJECTIVE_VALUES = cast(Table, ObjectiveValue.__table__)
FRONT_MEMBERS = cast(Table, FrontMember.__table__)
IN_FLIGHT = cast(Table, InFlightCandidate.__table__)

DIRECTIONS = ("minimize", "maximize")


def check_direction(direction: str, what: str = "direction") -> None:
    """`StoreError` unless `direction` is one of `DIRECTIONS`."""
    if direction not in DIRECTIONS:
        raise StoreError(f"{what} {direction!r} is not one of {DIRECTIONS}")
