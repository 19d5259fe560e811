"""Storage write throughput: our `Store.write_batch` vs Optuna's RDB storage, same machine and run.

Writes generated two-objective results (``max_relative_error``, ``cost``; metrics
``{"constants": {"c0": .., "c1": ..}}``, like an AutoNumerics campaign) and prints one JSON
line per figure, each the median over --repeats runs into a fresh database:

* `store_sqlite_rows_per_s`: evaluation rows/s through `automl.store.Store.write_batch` into a
  fresh SQLite file, in batches of --batch evaluations with their candidate rows (the
  controller's flush). A "row" is one evaluation; each also brings one candidate row and one
  `objective_values` index row per objective, and the campaign registers its objectives, so
  every batch also updates the maintained Pareto front (all counted in `rows_total`);
* `store_postgres_rows_per_s`: the same into a throwaway PostgreSQL database
  (``automl_bench_<random>``, created through --pg-url and dropped afterwards, even on error);
  its repeats alternate with SQLite's, so that both see the same machine load;
* `store_postgres_vs_sqlite_ratio`: the PostgreSQL median over the SQLite median (target 1.0),
  with each repeat's own ratio;
* with ``--shape controller`` the same three figures, named ``..._controller_...``, for batches
  shaped as a campaign's controller writes them: besides its candidates and evaluations each
  batch upserts one cache entry per evaluation, records the next batch's candidates as
  dispatched (in flight) and forgets its own as landed;
* `optuna_sqlite_trials_per_s`: the same results stored as Optuna trials in
  ``optuna.storages.RDBStorage("sqlite:///...")``: a two-direction study, each result one
  ``optuna.trial.create_trial(values=[error, cost], params={c0, c1}, distributions=...,
  user_attrs={program, parents, mutation, functional_hash})`` handed to ``study.add_trials``
  (the documented way to log externally evaluated results, and the fastest: ``ask``/``tell``
  costs several transactions per trial; ``add_trials`` is one per trial);
* `store_vs_optuna_per_row_ratio`: our SQLite rows/s over Optuna's SQLite trials/s;
* `optuna_postgres_trials_per_s`: Optuna on a throwaway PostgreSQL database.

Only the writes are timed: the records (and Optuna's FrozenTrials) are built beforehand, the
schema is created beforehand. Each figure is checked by counting the stored rows afterwards.
Optuna is a benchmark-only dependency (``pip install -e '.[bench]'``); without it, or without a
reachable PostgreSQL server, the figure is a JSON line with ``"skipped"`` and the reason.

    python scripts/bench_store.py [--rows 100000] [--optuna-trials 1000] [--batch 2000]
        [--repeats 3] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--skip-postgres] [--skip-optuna] [--shape rows|controller]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from automl.store import CacheEntryRow, CandidateRow, EvaluationRow, Store
from automl.store.models import FRONT_MEMBERS, OBJECTIVE_VALUES

TARGET_ROWS_PER_S = 20_000
PROGRAM = "t1 = x * c0\nt2 = t1 + c1\nf = t2 * t2\n"
OBJECTIVES = [("max_relative_error", "minimize"), ("cost", "minimize")]
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# what each side's SQLite connection runs with (automl.store.engine sets the pragmas; Optuna's
# RDBStorage sets none, so it runs with SQLite's and Python's defaults)
STORE_SQLITE_SETTINGS = "journal_mode=WAL, synchronous=NORMAL (automl.store engine)"
OPTUNA_SQLITE_SETTINGS = "journal_mode=DELETE, synchronous=FULL (SQLite defaults; Optuna sets none)"


def generate(count: int, seed: int) -> list[dict]:
    """`count` results shaped like an AutoNumerics campaign: error falls with cost, a parent
    from the last ~1000 candidates (a steady-state population), two fitted constants."""
    rng = np.random.default_rng(seed)
    numbers = np.arange(count)
    cost = rng.integers(0, 32, count).astype(float)
    error = 10.0 ** (-cost / 2.0 - 3.0 * rng.random(count))
    parents = numbers - rng.integers(1, 1000, count)
    constants = rng.normal(size=(count, 2))
    return [{"number": int(n), "error": float(e), "cost": float(c), "parent": int(p),
             "c0": float(c0), "c1": float(c1)}
            for n, e, c, p, (c0, c1) in zip(numbers, error, cost, parents, constants,
                                             strict=True)]


# -- our store -----------------------------------------------------------------------------

def controller_batches(batches: list[tuple[list[CandidateRow], list[EvaluationRow]]]
                       ) -> list[dict]:
    """`write_batch` arguments as the controller's flushes: each batch's candidates were
    dispatched by the previous flush (in flight until now), land with their evaluations and
    cache entries, and the next batch's candidates are dispatched."""
    calls = []
    for index, (candidates, evaluations) in enumerate(batches):
        following = batches[index + 1][0] if index + 1 < len(batches) else []
        calls.append({
            "candidates": candidates, "evaluations": evaluations,
            "cache_entries": [CacheEntryRow(c.functional_hash, "1" * 32, c.number, e.objectives,
                                            1, 0) for c, e in zip(candidates, evaluations,
                                                                  strict=True)],
            "dispatched": [replace(c, status="in_flight") for c in following],
            "landed": [c.number for c in candidates],
        })
    first = batches[0][0] if batches else []
    return [{"dispatched": [replace(c, status="in_flight") for c in first]}, *calls]


def store_batches(results: list[dict], batch: int
                  ) -> list[tuple[list[CandidateRow], list[EvaluationRow]]]:
    now = time.time()
    batches = []
    for start in range(0, len(results), batch):
        chunk = results[start:start + batch]
        candidates = [CandidateRow(r["number"], PROGRAM,
                                   () if r["parent"] < 0 else (r["parent"],),
                                   None if r["parent"] < 0 else "change_argument",
                                   f"{r['number']:032x}", "evaluated", created_at=now)
                      for r in chunk]
        evaluations = [EvaluationRow(r["number"],
                                     {"max_relative_error": r["error"], "cost": r["cost"]},
                                     {"constants": {"c0": r["c0"], "c1": r["c1"]}},
                                     "bench", 0.01, None, now) for r in chunk]
        batches.append((candidates, evaluations))
    return batches


def time_store(url: str, results: list[dict], batch: int, name: str,
               shape: str = "rows") -> dict:
    """Seconds to write `results` through `Store.write_batch`, and the rows stored."""
    batches = store_batches(results, batch)
    calls = ([{"candidates": c, "evaluations": e} for c, e in batches] if shape == "rows"
             else controller_batches(batches))
    with Store.open(url) as store:
        campaign = store.create_campaign(name, "autonumerics", 0, {"generated": True},
                                         "0" * 32, "bench", objectives=OBJECTIVES)
        start = time.perf_counter()
        for call in calls:
            store.write_batch(campaign.id, **call)
        seconds = time.perf_counter() - start
        if shape == "controller":
            assert store.load_in_flight(campaign.id) == []
            assert len(store.load_cache(campaign.id, "1" * 32)) == len(results)
        record = store.get_campaign(campaign.id)
        with store.engine.connect() as conn:
            values = conn.execute(
                select(func.count()).select_from(OBJECTIVE_VALUES)
                .where(OBJECTIVE_VALUES.c.campaign_id == campaign.id)).scalar_one()
            front = conn.execute(select(func.count()).select_from(FRONT_MEMBERS)
                                 .where(FRONT_MEMBERS.c.campaign_id == campaign.id)).scalar_one()
    assert record.evaluation_count == record.candidate_count == len(results), record
    assert values == len(OBJECTIVES) * len(results), values
    return {"seconds": seconds, "evaluations": record.evaluation_count,
            "candidates": record.candidate_count, "objective_values": values,
            "front_members": front}


# -- Optuna ----------------------------------------------------------------------------------

def optuna_trials(results: list[dict]) -> list:
    import optuna
    from optuna.distributions import FloatDistribution

    distributions = {"c0": FloatDistribution(-10.0, 10.0), "c1": FloatDistribution(-10.0, 10.0)}
    return [optuna.trial.create_trial(
        values=[r["error"], r["cost"]], params={"c0": r["c0"], "c1": r["c1"]},
        distributions=distributions,
        user_attrs={"program": PROGRAM, "parents": [] if r["parent"] < 0 else [r["parent"]],
                    "mutation": None if r["parent"] < 0 else "change_argument",
                    "functional_hash": f"{r['number']:032x}"})
        for r in results]


def time_optuna(url: str, results: list[dict]) -> dict:
    """Seconds to store `results` as trials of a two-direction study in Optuna's RDBStorage."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials = optuna_trials(results)
    storage = optuna.storages.RDBStorage(url)
    try:
        study = optuna.create_study(storage=storage, study_name="bench",
                                    directions=[d for _, d in OBJECTIVES])
        start = time.perf_counter()
        study.add_trials(trials)
        seconds = time.perf_counter() - start
        stored = len(study.get_trials(deepcopy=False))
    finally:
        storage.remove_session()
        storage.engine.dispose()
    assert stored == len(results), stored
    return {"seconds": seconds, "trials": stored}


# -- backends ------------------------------------------------------------------------------

@contextlib.contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench_store_") as directory:
        yield f"sqlite:///{directory}/bench.db"


@contextlib.contextmanager
def postgres_url(admin_url: str) -> Iterator[str]:
    """A throwaway database next to `admin_url`'s, dropped on the way out (even on error)."""
    name = f"automl_bench_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def postgres_problem(admin_url: str) -> str | None:
    """Why PostgreSQL cannot be used (None when it can)."""
    try:
        engine = create_engine(admin_url, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # any failure to connect: report it and skip
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def repeated(backend: Callable[[], contextlib.AbstractContextManager[str]],
             write: Callable[[str, int], dict], repeats: int) -> list[dict]:
    runs = []
    for repeat in range(repeats):
        with backend() as url:
            runs.append(write(url, repeat))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000,
                        help="evaluations written per run through our store")
    parser.add_argument("--optuna-trials", type=int, default=1_000,
                        help="trials stored per run in Optuna (slower: fewer)")
    parser.add_argument("--batch", type=int, default=2_000,
                        help="evaluations per write_batch (the controller's flush)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pg-url", default=PG_ADMIN_URL,
                        help="PostgreSQL URL to create the throwaway databases through")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-optuna", action="store_true")
    parser.add_argument("--shape", choices=("rows", "controller"), default="rows",
                        help="rows: candidates and evaluations only; controller: also the "
                             "cache entries and in-flight records a campaign writes")
    arguments = parser.parse_args()
    shape = "" if arguments.shape == "rows" else "controller_"
    context = {"repeats": arguments.repeats, "cpus": os.cpu_count(),
               "machine": platform.machine(), "python": platform.python_version(),
               "sqlite": sqlite3.sqlite_version}
    results = generate(max(arguments.rows, arguments.optuna_trials), seed=0)
    ours, theirs = results[:arguments.rows], results[:arguments.optuna_trials]

    def emit(line: dict) -> None:
        print(json.dumps({**line, **context}), flush=True)

    def store_line(metric: str, backend: str, runs: list[dict]) -> float:
        rates = [run["evaluations"] / run["seconds"] for run in runs]
        last = runs[-1]
        rows_total = last["evaluations"] + last["candidates"] + last["objective_values"]
        per_evaluation = {"evaluations": 1, "candidates": 1, "objective_values": len(OBJECTIVES)}
        if arguments.shape == "controller":  # + the cache entry, in-flight insert and delete
            rows_total += 3 * last["evaluations"]
            per_evaluation.update(cache_entries=1, in_flight_inserted=1, in_flight_deleted=1)
        value = statistics.median(rates)
        target = ({"target": TARGET_ROWS_PER_S, "meets_target": value >= TARGET_ROWS_PER_S,
                   "settings": STORE_SQLITE_SETTINGS} if backend == "sqlite" else {})
        emit({"metric": metric, "value": round(value, 1), "unit": "evaluation rows/s", **target,
              "runs": [round(r, 1) for r in rates], "backend": backend,
              "evaluations": last["evaluations"], "batch": arguments.batch,
              "rows_total": rows_total,
              "rows_total_per_s": round(value * rows_total / last["evaluations"], 1),
              "rows_per_evaluation": per_evaluation, "shape": arguments.shape,
              "front_members": last["front_members"],
              "seconds": round(statistics.median(r["seconds"] for r in runs), 3)})
        return value

    def optuna_line(metric: str, backend: str, runs: list[dict]) -> float:
        import optuna

        rates = [run["trials"] / run["seconds"] for run in runs]
        value = statistics.median(rates)
        emit({"metric": metric, "value": round(value, 1), "unit": "trials/s",
              "runs": [round(r, 1) for r in rates], "backend": backend,
              "trials": runs[-1]["trials"], "optuna": optuna.__version__,
              "method": "optuna.trial.create_trial + Study.add_trials (one transaction/trial)",
              **({"settings": OPTUNA_SQLITE_SETTINGS} if backend == "sqlite" else {}),
              "seconds": round(statistics.median(r["seconds"] for r in runs), 3)})
        return value

    def write_store(url: str, repeat: int) -> dict:
        return time_store(url, ours, arguments.batch, f"bench-{repeat}", arguments.shape)

    def write_optuna(url: str, repeat: int) -> dict:
        return time_optuna(url, theirs)

    pg_problem = "--skip-postgres" if arguments.skip_postgres else postgres_problem(
        arguments.pg_url)
    # with PostgreSQL, the repeats alternate between the backends, so that a change in the
    # machine's load during the run falls on both alike
    sqlite_runs: list[dict] = []
    pg_runs: list[dict] = []
    for _ in range(arguments.repeats):  # each run into a fresh database
        sqlite_runs += repeated(sqlite_url, write_store, 1)
        if pg_problem is None:
            pg_runs += repeated(lambda: postgres_url(arguments.pg_url), write_store, 1)
    ours_sqlite = store_line(f"store_sqlite_{shape}rows_per_s", "sqlite", sqlite_runs)
    if pg_problem is None:
        ours_pg = store_line(f"store_postgres_{shape}rows_per_s", "postgresql", pg_runs)
        pairs = [(p["evaluations"] / p["seconds"]) / (s["evaluations"] / s["seconds"])
                 for s, p in zip(sqlite_runs, pg_runs, strict=True)]
        emit({"metric": f"store_postgres_vs_sqlite_{shape}ratio",
              "value": round(ours_pg / ours_sqlite, 3),
              "unit": "x", "target": 1.0, "meets_target": ours_pg >= ours_sqlite,
              "numerator": f"store_postgres_{shape}rows_per_s (median)",
              "denominator": f"store_sqlite_{shape}rows_per_s (median)",
              "repeat_ratios": [round(r, 3) for r in pairs]})
    else:
        emit({"metric": f"store_postgres_{shape}rows_per_s", "value": None,
              "unit": "evaluation rows/s", "skipped": pg_problem})
        emit({"metric": f"store_postgres_vs_sqlite_{shape}ratio", "value": None,
              "skipped": pg_problem})

    optuna_problem = "--skip-optuna" if arguments.skip_optuna else None
    if optuna_problem is None:
        try:
            import optuna  # noqa: F401
        except ImportError:
            optuna_problem = "optuna is not installed (pip install -e '.[bench]')"
    if optuna_problem is not None:
        for metric in ("optuna_sqlite_trials_per_s", "store_vs_optuna_per_row_ratio",
                       "optuna_postgres_trials_per_s"):
            emit({"metric": metric, "value": None, "skipped": optuna_problem})
        return
    theirs_sqlite = optuna_line("optuna_sqlite_trials_per_s", "sqlite",
                                repeated(sqlite_url, write_optuna, arguments.repeats))
    emit({"metric": "store_vs_optuna_per_row_ratio",
          "value": round(ours_sqlite / theirs_sqlite, 1), "unit": "x",
          "backend": "sqlite", "numerator": "store_sqlite_rows_per_s (evaluation rows/s)",
          "denominator": "optuna_sqlite_trials_per_s (trials/s)"})
    if pg_problem is None:
        optuna_line("optuna_postgres_trials_per_s", "postgresql",
                    repeated(lambda: postgres_url(arguments.pg_url), write_optuna,
                             arguments.repeats))
    else:
        emit({"metric": "optuna_postgres_trials_per_s", "value": None, "unit": "trials/s",
              "skipped": pg_problem})


if __name__ == "__main__":
    main()
