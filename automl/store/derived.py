"""Tables derived from the evaluations, kept in step by every write batch so that the queries
on them cost the answer's size, not the campaign's: `objective_values` (one indexed row per
finite objective value: "top k by objective" is an index range scan) and `front_members` (the
campaign's Pareto front, merged with each batch's successful evaluations).

The front is an `automl.evolution.front.Front` over the campaign's registered (name, direction)
pairs, the one front computation the controller, the results API and the report share. The
store knows no log scales or reference points, and needs none: dominance only depends on each
objective's order, which the directions' signs give.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.engine import Connection

if TYPE_CHECKING:  # imported when a batch is written: reading commands never need numpy
    from automl.evolution.front import FrontMember

from .tables import FRONT_MEMBERS


def objective_value_params(campaign_id: int, evaluation_params: list[dict[str, Any]]
                           ) -> list[dict[str, Any]]:
    """The `objective_values` rows of encoded evaluations (a non-finite value, encoded as a
    string, has none)."""
    return [{"campaign_id": campaign_id, "candidate_number": p["candidate_number"],
             "objective": name, "value": float(value)}
            for p in evaluation_params if p["objectives"]
            for name, value in p["objectives"].items()
            if type(value) in (float, int) and math.isfinite(value)]


def update_front(conn: Connection, campaign_id: int, directions: Sequence[tuple[str, str]],
                 evaluation_params: list[dict[str, Any]]) -> None:
    """Merge a batch's encoded evaluations into the stored front: members it dominates are
    deleted, those of its evaluations that join are inserted. Must run after the batch's
    campaign stamp (`campaigns.touch`), whose row lock serializes concurrent writers of one
    campaign on PostgreSQL (SQLite has one writer anyway)."""
    if not any(p["objectives"] for p in evaluation_params):
        return
    joined, dropped = front_changes(directions, stored_front(conn, campaign_id),
                                    evaluation_params)
    apply_front_changes(conn, campaign_id, directions, joined, dropped)


def front_changes(directions: Sequence[tuple[str, str]], stored: list[FrontMember],
                  evaluation_params: list[dict[str, Any]]
                  ) -> tuple[list[FrontMember], list[FrontMember]]:
    """(joined, dropped): the encoded evaluations that join the `stored` front (read after the
    campaign stamp) and the stored members they dominate. Pure computation: the writer runs it
    while PostgreSQL still stores the batch's rows."""
    from automl.evolution.front import Front, FrontMember, sign_only

    arrivals = [FrontMember(p["candidate_number"], p["objectives"])
                for p in evaluation_params if p["objectives"]]
    if not arrivals:
        return [], []
    return Front.restore(sign_only(directions), stored).add(arrivals)


def apply_front_changes(conn: Connection, campaign_id: int,
                        directions: Sequence[tuple[str, str]], joined: list[FrontMember],
                        dropped: list[FrontMember]) -> None:
    """Store `front_changes`: delete the dropped members (by row id), insert the joined ones."""
    if dropped:
        conn.execute(delete(FRONT_MEMBERS).where(FRONT_MEMBERS.c.id == bindparam("member")),
                     [{"member": member.payload} for member in dropped])
    if joined:
        names = [name for name, _ in directions]
        conn.execute(insert(FRONT_MEMBERS), [
            {"campaign_id": campaign_id, "candidate_number": member.number,
             "objectives": {name: float(member.objectives[name]) for name in names}}
            for member in joined])


def stored_front(conn: Connection, campaign_id: int) -> list[FrontMember]:
    """The stored members, each with its row id as payload."""
    from automl.evolution.front import FrontMember

    rows = conn.execute(
        select(FRONT_MEMBERS.c.id, FRONT_MEMBERS.c.candidate_number, FRONT_MEMBERS.c.objectives)
        .where(FRONT_MEMBERS.c.campaign_id == campaign_id))
    return [FrontMember(row.candidate_number, row.objectives, payload=row.id) for row in rows]
