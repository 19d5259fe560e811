"""What `PRAGMA quick_check` costs `automl run`/`resume` on open (and `integrity_check`,
`automl db check`), on a SQLite campaign of --candidates candidates, each with one evaluation
of two objectives (so 4 rows and their index entries per candidate), written through
`Store.write_batch` as a campaign writes them. Prints one JSON line:

    python scripts/bench_quick_check.py [--candidates 1000000] [--repeats 3]

Times are the median of --repeats, each on a cold connection (the file itself is in the page
cache after the first: what a command run right after another sees).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from automl.store import CandidateRow, EvaluationRow, Store
from automl.store.integrity import sqlite_problems


def build(path: Path, candidates: int, batch: int = 20_000) -> None:
    with Store.open(f"sqlite:///{path}") as store:
        campaign = store.create_campaign(
            "bench", "autonumerics", 0, {"bench": True}, "settings", "bench",
            objectives=[("error", "minimize"), ("cost", "minimize")])
        for start in range(0, candidates, batch):
            numbers = range(start, min(start + batch, candidates))
            store.write_batch(
                campaign.id,
                candidates=[CandidateRow(n, f"y = mul(x, c0)  # {n}\n", (max(0, n - 1),),
                                         "insert_statement", f"{n:032x}", "evaluated")
                            for n in numbers],
                evaluations=[EvaluationRow(n, {"error": 1.0 / (n + 1), "cost": float(n % 17)},
                                           {"fit_start": None}, "local", 0.001, None)
                             for n in numbers])


def timed(path: Path, full: bool, repeats: int) -> float:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        assert sqlite_problems(path, full=full) == []
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        started = time.perf_counter()
        build(path, args.candidates)
        built = time.perf_counter() - started
        print(json.dumps({
            "metric": "sqlite_quick_check_seconds",
            "candidates": args.candidates, "rows": 4 * args.candidates,
            "file_mib": round(path.stat().st_size / 2**20, 1),
            "quick_check_s": round(timed(path, False, args.repeats), 3),
            "integrity_check_s": round(timed(path, True, args.repeats), 3),
            "build_s": round(built, 1), "repeats": args.repeats,
        }))


if __name__ == "__main__":
    main()
