"""Read what campaigns discovered: `automl.open(url)` for notebooks, and the engine behind the
query verbs of the CLI (`top`, `pareto`, `show`, `lineage`, `compare`, `report`).

Everything returned is a plain frozen dataclass (or a pandas DataFrame from `frame`). Queries
go through the store's indexes and its maintained Pareto front, so they stay fast at millions
of evaluations. A candidate is named ``CAMPAIGN:NUMBER`` (campaign by name or id).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import numpy as np

from automl.evolution.front import Front, FrontMember, sign_only
from automl.plugins import get_space
from automl.space import Objective, SearchSpace
from automl.store import CampaignRecord, CandidateRow, EvaluationRow, Store, StoreError


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    name: str
    space: str
    status: str
    seed: int
    candidates: int
    evaluations: int
    objectives: tuple[tuple[str, str], ...]  # (name, direction)
    created_at: float
    config: dict[str, Any]
    environment: dict[str, Any] | None


@dataclass(frozen=True)
class CandidateInfo:
    campaign: str
    number: int
    program: str  # DSL text
    parents: tuple[int, ...]
    mutation: str | None
    status: str  # evaluated | duplicate | failed | rejected
    functional_hash: str
    duplicate_of: int | None  # the evaluated twin whose result the cache reused
    simplified_removed: int  # statements simplification removed
    objectives: dict[str, float] | None  # own evaluation, or the twin's for a duplicate
    metrics: dict[str, Any]
    error: str | None
    duplicates: int | None = None  # candidates the cache answered with this one's result

    @property
    def ref(self) -> str:
        return f"{self.campaign}:{self.number}"


def parse_ref(ref: str) -> tuple[str, int]:
    """``CAMPAIGN:NUMBER`` -> (campaign, number); ValueError naming the expected form."""
    campaign, separator, number = ref.rpartition(":")
    if not separator or not campaign or not number.strip().isdigit():
        raise ValueError(f"candidate {ref!r}: expected CAMPAIGN:NUMBER, e.g. lion-digits:42")
    return campaign, int(number)


def _campaign_key(campaign: str | int) -> str | int:
    if isinstance(campaign, str) and campaign.isdigit():
        return int(campaign)
    return campaign


class Results:
    """Read access to one results database (SQLite file or PostgreSQL URL)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._records: dict[str | int, CampaignRecord] = {}
        self._spaces: dict[int, SearchSpace] = {}

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- campaigns -------------------------------------------------------------------------
    def campaigns(self) -> list[CampaignInfo]:
        return [self._info(record) for record in self.store.list_campaigns()]

    def campaign(self, campaign: str | int) -> CampaignInfo:
        """With its candidate and evaluation counts."""
        return self._info(self.store.get_campaign(_campaign_key(campaign)))

    def record(self, campaign: str | int) -> CampaignRecord:
        key = _campaign_key(campaign)
        if key not in self._records:
            self._records[key] = self.store.get_campaign(key, counts=False)
        return self._records[key]

    def space(self, campaign: str | int) -> SearchSpace:
        """The campaign's search space with its stored settings."""
        record = self.record(campaign)
        if record.id not in self._spaces:
            settings = record.config.get("space", {}).get("settings")
            self._spaces[record.id] = get_space(record.space, settings)
        return self._spaces[record.id]

    def objectives(self, campaign: str | int) -> tuple[Objective, ...]:
        """The campaign's objectives; registered (name, direction) pairs are authoritative,
        the space supplies scales and hypervolume references."""
        record = self.record(campaign)
        by_name = {o.name: o for o in self.space(campaign).objectives}
        if record.objectives is None:
            return tuple(by_name.values())
        return tuple(by_name.get(name) or Objective(name, direction)  # type: ignore[arg-type]
                     for name, direction in record.objectives)

    # -- candidates ------------------------------------------------------------------------
    def candidate(self, ref: str | tuple[str | int, int], with_duplicates: bool = True
                  ) -> CandidateInfo:
        campaign, number = parse_ref(ref) if isinstance(ref, str) else ref
        record = self.record(campaign)
        found = self.candidates(campaign, [number])
        if number not in found:
            raise StoreError(f"campaign {record.name!r} has no candidate {number}")
        info = found[number]
        if with_duplicates:
            count = self.store.duplicate_count(record.id, number)
            info = dataclasses.replace(info, duplicates=count)
        return info

    def candidates(self, campaign: str | int, numbers: Sequence[int]
                   ) -> dict[int, CandidateInfo]:
        """Candidates by number, with objectives resolved (a duplicate shows its twin's)."""
        record = self.record(campaign)
        rows = self.store.get_candidates(record.id, numbers)
        sources = {row.duplicate_of if row.status == "duplicate" and row.duplicate_of is not None
                   else row.number for row in rows.values()}
        # a duplicate written differently from its twin has its own row (its own cost)
        evaluations = self.store.get_evaluations(record.id, sources | set(rows))
        infos = {}
        for number, row in rows.items():
            source = row.duplicate_of if row.status == "duplicate" and \
                row.duplicate_of is not None else number
            infos[number] = _candidate_info(record.name, row, evaluations.get(number) or
                                            evaluations.get(source, []))
        return infos

    def top(self, campaign: str | int, k: int = 10, objective: str | None = None
            ) -> list[CandidateInfo]:
        """The `k` best evaluated candidates by `objective` (default: the first), best first."""
        record = self.record(campaign)
        objectives = {o.name: o for o in self.objectives(campaign)}
        name = objective or next(iter(objectives))
        if name not in objectives:
            raise ValueError(f"campaign {record.name!r} has no objective {name!r}; it has "
                             f"{', '.join(objectives)}")
        ranked = self.store.top(record.id, name, k, objectives[name].direction)
        infos = self.candidates(campaign, [number for number, _ in ranked])
        return [infos[number] for number, _ in ranked if number in infos]

    def pareto(self, campaign: str | int) -> list[CandidateInfo]:
        """The Pareto front over every successful evaluation, sorted by the first objective;
        a cache hit equal to its twin on the front in every objective is left out."""
        record = self.record(campaign)
        objectives = self.objectives(campaign)
        front = self.store.front(record.id)
        if front is None:  # campaign stored before the front was maintained: compute it
            front = self._computed_front(record, objectives)
        infos = self.candidates(campaign, [number for number, _ in front])
        members = [infos[number] for number, _ in front if number in infos]
        # a cache hit with its twin's very objectives is the same function at the same point:
        # listed once, as the twin (a hit whose cost differs is a point of its own)
        members = [c for c in members if not (
            c.duplicate_of in infos and infos[c.duplicate_of].objectives == c.objectives)]
        first = objectives[0]
        return sorted(members, key=lambda c: (first.to_minimization(
            (c.objectives or {}).get(first.name, np.inf)), c.number))

    def lineage(self, ref: str | tuple[str | int, int]) -> list[CandidateInfo]:
        """The candidate, its parent, ... back to a seed (first parents)."""
        campaign, number = parse_ref(ref) if isinstance(ref, str) else ref
        record = self.record(campaign)
        chain = self.store.lineage(record.id, number)
        infos = self.candidates(campaign, [row.number for row in chain])
        return [infos[row.number] for row in chain]

    # -- whole-campaign series (reports, comparisons, data frames) -------------------------
    def evaluations(self, campaign: str | int) -> list[EvaluationRow]:
        return self.store.load_evaluations(self.record(campaign).id)

    def hypervolume(self, campaign: str | int) -> float | None:
        """Hypervolume of the front, on the objectives' minimization scales, against the
        space's reference point; None when some objective has no reference."""
        objectives = self.objectives(campaign)
        if any(o.reference is None for o in objectives):
            return None  # before reading the front
        return Front(objectives, (FrontMember(c.number, c.objectives)
                                  for c in self.pareto(campaign))).hypervolume()

    def best(self, campaign: str | int) -> dict[str, float]:
        """Best value of every objective (each over all evaluations)."""
        return self.store.best_values(self.record(campaign).id, [
            (o.name, o.direction) for o in self.objectives(campaign)])

    def records(self, campaign: str | int) -> list[dict[str, Any]]:
        """One flat dict per candidate: number, status, parents, mutation, program, hash, and
        one column per objective (NaN when it has none), as `frame` tabulates them."""
        record = self.record(campaign)
        names = [o.name for o in self.objectives(campaign)]
        by_number: dict[int, dict[str, float]] = {}
        for evaluation in self.store.load_evaluations(record.id):
            if evaluation.objectives:
                by_number.setdefault(evaluation.candidate_number, evaluation.objectives)
        rows = []
        for candidate in self.store.load_candidates(record.id):
            source = candidate.duplicate_of if candidate.status == "duplicate" else \
                candidate.number
            objectives = by_number.get(candidate.number) or (
                by_number.get(source, {}) if source is not None else {})
            rows.append({"number": candidate.number, "status": candidate.status,
                         "parents": list(candidate.parents), "mutation": candidate.mutation,
                         "duplicate_of": candidate.duplicate_of,
                         "functional_hash": candidate.functional_hash,
                         "program": candidate.program, "created_at": candidate.created_at,
                         **{name: objectives.get(name, float("nan")) for name in names}})
        return rows

    def frame(self, campaign: str | int) -> Any:
        """`records` as a pandas DataFrame (pandas is optional: ImportError names it)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("Results.frame needs pandas (pip install pandas); "
                              "Results.records gives the same rows as dicts") from None
        return pandas.DataFrame.from_records(self.records(campaign))

    # -- helpers ---------------------------------------------------------------------------
    def _info(self, record: CampaignRecord) -> CampaignInfo:
        objectives = record.objectives
        if objectives is None:
            settings = record.config.get("space", {}).get("settings")
            try:
                objectives = tuple((o.name, o.direction)
                                   for o in get_space(record.space, settings).objectives)
            except (LookupError, ValueError):
                objectives = ()
        return CampaignInfo(record.id, record.name, record.space, record.status, record.seed,
                            record.candidate_count, record.evaluation_count, objectives,
                            record.created_at, record.config, record.environment)

    def _computed_front(self, record: CampaignRecord, objectives: Sequence[Objective]
                        ) -> list[tuple[int, dict[str, float]]]:
        """The front of every evaluation, compared as the store compares the fronts it keeps
        (on the directions' signs), so an old campaign's front is the one a store would have
        maintained for it."""
        front = Front(sign_only((o.name, o.direction) for o in objectives), (
            FrontMember(e.candidate_number, e.objectives)
            for e in self.store.load_evaluations(record.id)))
        return [(member.number, dict(member.objectives)) for member in front.members()]


def _candidate_info(campaign: str, row: CandidateRow, evaluations: list[EvaluationRow]
                    ) -> CandidateInfo:
    successes = [e for e in evaluations if e.objectives]
    objectives = None
    if successes:  # several under the aggregating cache policy: their mean, as the cache uses
        objectives = {name: float(np.mean([e.objectives[name] for e in successes]))  # type: ignore[index]
                      for name in successes[0].objectives}  # type: ignore[union-attr]
    last = evaluations[-1] if evaluations else None
    return CandidateInfo(
        campaign=campaign, number=row.number, program=row.program, parents=row.parents,
        mutation=row.mutation, status=row.status, functional_hash=row.functional_hash,
        duplicate_of=row.duplicate_of, simplified_removed=row.simplified_removed,
        objectives=objectives, metrics=(successes[-1] if successes else last).metrics
        if (successes or last) else {},
        error=None if successes else (last.error if last else None))


def open(url: str | None = None) -> Results:  # noqa: A001 - `automl.open(url)` is the API
    """Open a results database: ``automl.open("sqlite:///results/automl.db")``. Without a
    URL: $AUTOML_DB, then the default database."""
    import os

    from automl.config import DEFAULT_DATABASE

    return Results(Store.open(url or os.environ.get("AUTOML_DB") or DEFAULT_DATABASE,
                              create=False))
