"""The store's read queries, each a function of an open connection (the `Store` supplies the
transaction and the check that the campaign exists).

They are written to stay fast at millions of evaluations: every one is served by an index of
`models` (by campaign and number, hash, status, duplicate_of, objective value, cache write
order), reads only the rows it returns (in pages of 500 keys where the caller names them), and
decodes rows into the plain records of `records`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, func, literal, select
from sqlalchemy.engine import Connection

from . import codec
from .records import CANDIDATE_STATUSES, CacheEntryRow, CandidateRow, EvaluationRow
from .tables import (
    CACHE_ENTRIES,
    CANDIDATES,
    EVALUATIONS,
    FRONT_MEMBERS,
    IN_FLIGHT,
    OBJECTIVE_VALUES,
)

PAGE = 500  # keys per IN (...) list


# -- whole tables of a campaign --------------------------------------------------------------

def load_candidates(conn: Connection, campaign_id: int) -> list[CandidateRow]:
    query = (select(CANDIDATES).where(CANDIDATES.c.campaign_id == campaign_id)
             .order_by(CANDIDATES.c.number))
    return [codec.candidate_row(row) for row in conn.execute(query)]


def load_evaluations(conn: Connection, campaign_id: int) -> list[EvaluationRow]:
    query = (select(EVALUATIONS).where(EVALUATIONS.c.campaign_id == campaign_id)
             .order_by(EVALUATIONS.c.candidate_number, EVALUATIONS.c.id))
    return [codec.evaluation_row(row) for row in conn.execute(query)]


def load_in_flight(conn: Connection, campaign_id: int) -> list[CandidateRow]:
    query = (select(IN_FLIGHT).where(IN_FLIGHT.c.campaign_id == campaign_id)
             .order_by(IN_FLIGHT.c.number))
    return [codec.in_flight_row(row) for row in conn.execute(query)]


# -- the cache -------------------------------------------------------------------------------

def load_cache(conn: Connection, campaign_id: int, settings_hash: str,
               limit: int | None = None) -> list[CacheEntryRow]:
    """By row id (first insertion). With `limit`, only the `limit` entries written last (by
    their write number, then id), still in id order: a sub-list of the whole cache."""
    columns = CACHE_ENTRIES.c
    query = select(CACHE_ENTRIES).where(columns.campaign_id == campaign_id,
                                        columns.settings_hash == settings_hash)
    if limit is None:
        return [codec.cache_row(row) for row in conn.execute(query.order_by(columns.id))]
    rows = conn.execute(query.order_by(columns.written.desc(), columns.id.desc())
                        .limit(limit)).all()
    return [codec.cache_row(row) for row in sorted(rows, key=lambda row: row.id)]


def cache_hashes_page(conn: Connection, campaign_id: int, settings_hash: str, after_id: int,
                      size: int) -> list[tuple[int, str]]:
    """(row id, functional hash) of up to `size` cache entries with ids after `after_id`."""
    columns = CACHE_ENTRIES.c
    return [(row.id, row.functional_hash) for row in conn.execute(
        select(columns.id, columns.functional_hash)
        .where(columns.campaign_id == campaign_id, columns.settings_hash == settings_hash,
               columns.id > after_id)
        .order_by(columns.id).limit(size))]


def load_cache_entry(conn: Connection, campaign_id: int, settings_hash: str,
                     functional_hash: str) -> CacheEntryRow | None:
    columns = CACHE_ENTRIES.c
    row = conn.execute(select(CACHE_ENTRIES).where(
        columns.campaign_id == campaign_id, columns.settings_hash == settings_hash,
        columns.functional_hash == functional_hash)).first()
    return None if row is None else codec.cache_row(row)


def load_shared_cache(conn: Connection, settings_hash: str, exclude_campaign: int,
                      after_id: int) -> list[tuple[int, int, CacheEntryRow]]:
    columns = CACHE_ENTRIES.c
    query = (select(CACHE_ENTRIES)
             .where(columns.settings_hash == settings_hash,
                    columns.campaign_id != exclude_campaign, columns.id > after_id)
             .order_by(columns.id))
    return [(row.id, row.campaign_id, codec.cache_row(row)) for row in conn.execute(query)]


# -- counts ----------------------------------------------------------------------------------

def status_counts(conn: Connection, campaign_id: int) -> dict[str, int]:
    query = (select(CANDIDATES.c.status, func.count())
             .where(CANDIDATES.c.campaign_id == campaign_id)
             .group_by(CANDIDATES.c.status))
    counts = dict.fromkeys(CANDIDATE_STATUSES, 0)
    counts.update({status: count for status, count in conn.execute(query)})
    return counts


def rejection_reasons(conn: Connection, campaign_id: int) -> dict[str, int]:
    query = (
        select(EVALUATIONS.c.error)
        .join(CANDIDATES, (CANDIDATES.c.campaign_id == EVALUATIONS.c.campaign_id)
              & (CANDIDATES.c.number == EVALUATIONS.c.candidate_number))
        .where(EVALUATIONS.c.campaign_id == campaign_id, CANDIDATES.c.status == "rejected")
    )
    kinds = Counter((error or "no reason given").split(":", 1)[0].strip()
                    for (error,) in conn.execute(query))
    return dict(kinds.most_common())


def max_candidate_number(conn: Connection, campaign_id: int) -> int | None:
    query = select(func.max(CANDIDATES.c.number)).where(CANDIDATES.c.campaign_id == campaign_id)
    return conn.execute(query).scalar_one()


def next_candidate_number(conn: Connection, campaign_id: int) -> int:
    """One more than the highest number stored or in flight (both unique per campaign, each
    max an index lookup); 0 for a campaign without either."""
    highest = [conn.execute(select(func.max(table.c.number))
                            .where(table.c.campaign_id == campaign_id)).scalar_one()
               for table in (CANDIDATES, IN_FLIGHT)]
    return max((number + 1 for number in highest if number is not None), default=0)


def duplicate_count(conn: Connection, campaign_id: int, number: int) -> int:
    query = select(func.count()).select_from(CANDIDATES).where(
        CANDIDATES.c.campaign_id == campaign_id, CANDIDATES.c.duplicate_of == number)
    return int(conn.execute(query).scalar_one())


# -- objectives ------------------------------------------------------------------------------

def top(conn: Connection, campaign_id: int, objective: str, k: int, direction: str
        ) -> list[tuple[int, float]]:
    """An index range scan over `objective_values`; a candidate evaluated several times has
    several rows, so the page is read again, larger, only when such repeats filled it."""
    columns = OBJECTIVE_VALUES.c
    value_order = columns.value.asc() if direction == "minimize" else columns.value.desc()
    best: dict[int, float] = {}
    limit = max(k, 1) * 2
    while True:
        rows = conn.execute(
            select(columns.candidate_number, columns.value)
            .where(columns.campaign_id == campaign_id, columns.objective == objective)
            .order_by(value_order, columns.candidate_number).limit(limit)).all()
        best = {}
        for number, value in rows:
            best.setdefault(number, value)
        if len(best) >= k or len(rows) < limit:
            break
        limit *= 4
    return list(best.items())[:k]


def best_values(conn: Connection, campaign_id: int,
                objectives: Sequence[tuple[str, str]]) -> dict[str, float]:
    """The first of `top` per objective; objectives without any value are left out."""
    best = {}
    for name, direction in objectives:
        first = top(conn, campaign_id, name, 1, direction)
        if first:
            best[name] = first[0][1]
    return best


def front(conn: Connection, campaign_id: int) -> list[tuple[int, dict[str, float]]]:
    rows = conn.execute(
        select(FRONT_MEMBERS.c.candidate_number, FRONT_MEMBERS.c.objectives)
        .where(FRONT_MEMBERS.c.campaign_id == campaign_id)
        .order_by(FRONT_MEMBERS.c.candidate_number)).all()
    return [(number, codec.decode_objectives(values) or {}) for number, values in rows]


# -- candidates by number --------------------------------------------------------------------

def get_candidates(conn: Connection, campaign_id: int, numbers: Iterable[int]
                   ) -> dict[int, CandidateRow]:
    wanted = sorted(set(numbers))
    found: dict[int, CandidateRow] = {}
    for start in range(0, len(wanted), PAGE):
        query = select(CANDIDATES).where(CANDIDATES.c.campaign_id == campaign_id,
                                         CANDIDATES.c.number.in_(wanted[start:start + PAGE]))
        found.update((row.number, codec.candidate_row(row)) for row in conn.execute(query))
    return found


def get_evaluations(conn: Connection, campaign_id: int, numbers: Iterable[int]
                    ) -> dict[int, list[EvaluationRow]]:
    wanted = sorted(set(numbers))
    found: dict[int, list[EvaluationRow]] = {number: [] for number in wanted}
    for start in range(0, len(wanted), PAGE):
        query = select(EVALUATIONS).where(
            EVALUATIONS.c.campaign_id == campaign_id,
            EVALUATIONS.c.candidate_number.in_(wanted[start:start + PAGE]),
        ).order_by(EVALUATIONS.c.id)
        for row in conn.execute(query):
            found[row.candidate_number].append(codec.evaluation_row(row))
    return found


def lineage(conn: Connection, campaign_id: int, number: int) -> list[CandidateRow]:
    """One recursive query (the chain can be thousands of generations long)."""
    columns = CANDIDATES.c
    first_parent = columns.parents[0].as_integer()
    chain: Any = (select(columns.number, first_parent.label("parent"), literal(0).label("depth"))
                  .where(columns.campaign_id == campaign_id, columns.number == number)
                  .cte("chain", recursive=True))
    step = (select(columns.number, first_parent, chain.c.depth + 1)
            # a parent is always numbered before its child: this also makes a corrupt, cyclic
            # chain end instead of looping
            .join(chain, and_(columns.campaign_id == campaign_id,
                              columns.number == chain.c.parent,
                              columns.number < chain.c.number)))
    chain = chain.union_all(step)
    query = (select(CANDIDATES).join(chain, and_(columns.campaign_id == campaign_id,
                                                 columns.number == chain.c.number))
             .order_by(chain.c.depth))
    return [codec.candidate_row(row) for row in conn.execute(query)]
