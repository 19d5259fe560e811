"""The lease's cost (issue 29): candidates/s of `scripts/bench_pipeline.py`'s cheap campaign
(AutoNumerics, constant fitting off, local executor) with the heartbeat on (every
--heartbeat seconds, the default 5) and in effect off (every 10^9 s), interleaved in one run,
on SQLite (a fresh file per run) or on --db (PostgreSQL: a campaign of its own per run).
Prints one JSON line: the median candidates/s of each and the relative difference.

    python scripts/bench_heartbeat.py [--candidates 20000] [--repeats 5] [--heartbeat 5]
        [--db postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import CONFIG  # noqa: E402 - the very campaign bench_pipeline measures

from automl.config import parse_config  # noqa: E402
from automl.controller import CampaignController  # noqa: E402
from automl.store import Store  # noqa: E402

OFF = 1e9


def run_once(candidates: int, heartbeat: float, seed: int, url: str | None
             ) -> tuple[float, int]:
    """(candidates/s, heartbeats renewed) of one campaign."""
    text = CONFIG.format(seed=seed, candidates=candidates, executor="local", batch_size=64)
    config = parse_config(text + f"lease: {{heartbeat_seconds: {heartbeat}, "
                                 f"grace_seconds: {max(30.0, 2 * heartbeat)}}}\n")
    with tempfile.TemporaryDirectory() as directory:
        store = Store.open(url or f"sqlite:///{directory}/bench.db")
        name = f"heartbeat-{heartbeat:g}-{seed}-{time.time_ns()}"
        controller = CampaignController.create(config, store, name)
        start = time.perf_counter()
        summary = controller.run()
        seconds = time.perf_counter() - start
        beats = controller.heartbeat.beats if controller.heartbeat else 0
        store.close()
    assert summary.candidates == candidates
    return candidates / seconds, beats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--heartbeat", type=float, default=5.0)
    parser.add_argument("--db", default=None, help="database URL (default: a SQLite file)")
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"on": [], "off": []}
    beats = 0
    for repeat in range(args.repeats):  # interleaved, alternating which goes first
        order = ("on", "off") if repeat % 2 == 0 else ("off", "on")
        for which in order:
            rate, n = run_once(args.candidates, args.heartbeat if which == "on" else OFF,
                               seed=repeat, url=args.db)
            rates[which].append(rate)
            beats += n if which == "on" else 0
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    print(json.dumps({
        "metric": "heartbeat_overhead", "backend": (args.db or "sqlite").split(":")[0],
        "candidates": args.candidates, "repeats": args.repeats,
        "heartbeat_seconds": args.heartbeat, "heartbeats_on": beats,
        "on_candidates_per_s": round(on, 1), "off_candidates_per_s": round(off, 1),
        "overhead_fraction": round((off - on) / off, 4),
        "on_all": [round(r, 1) for r in rates["on"]],
        "off_all": [round(r, 1) for r in rates["off"]],
    }))


if __name__ == "__main__":
    main()
