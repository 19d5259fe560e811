"""Records <-> database rows, including the JSON encoding of non-finite floats.

JSON has no NaN/inf (PostgreSQL rejects the ``NaN`` token), so:

* objectives (``dict[str, float]``): a non-finite value is stored as the string ``"nan"``,
  ``"inf"`` or ``"-inf"``; decoding is ``float(value)`` for every value. Unambiguous, since
  an objective is always a float, and still readable in SQL.
* free-form JSON (metrics, campaign config): a non-finite float anywhere in the value becomes
  ``{"$float": "nan"}`` (or ``"inf"``/``"-inf"``); a dict that is exactly ``{"$float": str}``
  decodes back to a float. JSON itself turns tuples into lists and keys into strings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import StoreError
from .records import CANDIDATE_STATUSES, CacheEntryRow, CandidateRow, EvaluationRow

FLOAT_TAG = "$float"


def encode_objectives(objectives: Mapping[str, float] | None) -> dict[str, float | str] | None:
    if objectives is None:
        return None
    encoded: dict[str, float | str] = {}
    for name, value in objectives.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise StoreError(f"objective {name!r}: {value!r:.80} is not a number") from None
        encoded[name] = number if math.isfinite(number) else str(number)
    return encoded


def decode_objectives(raw: Mapping[str, float | str] | None) -> dict[str, float] | None:
    if raw is None:
        return None
    return {name: float(value) for name, value in raw.items()}


def encode_json(value: Any, what: str = "value") -> Any:
    """`value` with every non-finite float replaced by a ``{"$float": ...}`` tag; `StoreError`
    for anything JSON cannot hold (the same on every backend, e.g. for numpy scalars)."""
    kind = type(value)  # exact-type fast path first: this runs for every metric of every row
    if kind is float:
        return value if math.isfinite(value) else {FLOAT_TAG: str(value)}
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {key: encode_json(item, what) for key, item in value.items()}
    if isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {FLOAT_TAG: str(float(value))}
    if isinstance(value, Mapping):
        return {key: encode_json(item, what) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode_json(item, what) for item in value]
    raise StoreError(f"{what}: {type(value).__name__} {value!r:.80} is not JSON-able")


def decode_json(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get(FLOAT_TAG), str):
            return float(value[FLOAT_TAG])
        return {key: decode_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_json(item) for item in value]
    return value


def in_flight_params(campaign_id: int, row: CandidateRow) -> dict[str, Any]:
    """The columns a candidate has from its creation (the in-flight table holds these)."""
    return {
        "campaign_id": campaign_id,
        "number": row.number,
        "program": row.program,
        "parents": list(row.parents),
        "mutation": row.mutation,
        "functional_hash": row.functional_hash,
        "simplified_removed": row.simplified_removed,
        "created_at": row.created_at,
    }


def candidate_params(campaign_id: int, row: CandidateRow) -> dict[str, Any]:
    """An in-flight row plus how it ended (status, and the twin of a cache hit)."""
    if row.status not in CANDIDATE_STATUSES:
        raise StoreError(
            f"candidate {row.number}: status {row.status!r} is not one of {CANDIDATE_STATUSES}"
        )
    return {**in_flight_params(campaign_id, row), "status": row.status,
            "duplicate_of": row.duplicate_of}


def candidate_row(row: Any, status: str | None = None) -> CandidateRow:
    """A stored candidate; `status` for rows of a table without one (in flight)."""
    return CandidateRow(
        number=row.number,
        program=row.program,
        parents=tuple(row.parents),
        mutation=row.mutation,
        functional_hash=row.functional_hash,
        status=status or row.status,
        duplicate_of=None if status else row.duplicate_of,
        simplified_removed=row.simplified_removed,
        created_at=row.created_at,
    )


def in_flight_row(row: Any) -> CandidateRow:
    return candidate_row(row, status="in_flight")


def evaluation_params(campaign_id: int, row: EvaluationRow) -> dict[str, Any]:
    return {
        "campaign_id": campaign_id,
        "candidate_number": row.candidate_number,
        "objectives": encode_objectives(row.objectives),
        "metrics": encode_json(row.metrics, f"metrics of candidate {row.candidate_number}"),
        "worker": row.worker,
        "duration_s": row.duration_s,
        "error": row.error,
        "created_at": row.created_at,
    }


def evaluation_row(row: Any) -> EvaluationRow:
    return EvaluationRow(
        candidate_number=row.candidate_number,
        objectives=decode_objectives(row.objectives),
        metrics=decode_json(row.metrics),
        worker=row.worker,
        duration_s=row.duration_s,
        error=row.error,
        created_at=row.created_at,
    )


def cache_params(campaign_id: int, row: CacheEntryRow) -> dict[str, Any]:
    return {
        "campaign_id": campaign_id,
        "settings_hash": row.settings_hash,
        "functional_hash": row.functional_hash,
        "candidate_number": row.candidate_number,
        "objectives": encode_objectives(row.objectives),
        "evaluation_count": row.evaluation_count,
        "hit_count": row.hit_count,
        "error": row.error,
    }


def cache_row(row: Any) -> CacheEntryRow:
    return CacheEntryRow(
        functional_hash=row.functional_hash,
        settings_hash=row.settings_hash,
        candidate_number=row.candidate_number,
        objectives=decode_objectives(row.objectives),
        evaluation_count=row.evaluation_count,
        hit_count=row.hit_count,
        error=row.error,
    )
