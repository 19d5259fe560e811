"""Crash-safe resume: SIGKILL the controller mid-campaign, `automl resume` from the database
alone, and end with the same candidates an uninterrupted run makes; candidates in flight at
the crash are evaluated again, once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from automl.config import parse_config
from automl.controller import CampaignController
from automl.executor import EvaluationResult, EvaluationTask, Executor, LocalExecutor
from automl.store import Store

REPOSITORY = Path(__file__).resolve().parents[1]
BUDGET = 120
CONFIG = f"""
seed: 11
space: {{name: autonumerics, settings: {{target: exp2, fit_constants: true, max_statements: 10}}}}
evolution: {{strategy: nsga2, population_size: 12}}
budget: {{max_evaluations: {BUDGET}}}
executor: {{kind: local, batch_size: 4}}
store: {{flush_seconds: 0.01}}
"""


def sequence(url: str, name: str) -> list[tuple]:
    with Store.open(url) as store:
        campaign = store.get_campaign(name)
        return [(c.number, c.program, c.functional_hash, c.status, c.parents, c.mutation,
                 c.duplicate_of) for c in store.load_candidates(campaign.id)]


def evaluated_count(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM candidates WHERE status != 'duplicate'"
                                ).fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


# regularized evolution that restarts from the best after 8 members without improvement:
# where the stall count stands is part of the state a resumed campaign continues from
RESTARTING = CONFIG.replace("strategy: nsga2", "strategy: regularized, restart_after: 8")


@pytest.mark.slow
@pytest.mark.parametrize("config", [CONFIG, RESTARTING], ids=["nsga2", "restarting"])
def test_sigkill_then_resume_gives_the_uninterrupted_candidates(tmp_path, config):
    config_file = tmp_path / "c.yaml"
    config_file.write_text(config)
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    with Store.open(reference_url) as store:
        summary = CampaignController.create(parse_config(config), store, "c").run()
    if config is RESTARTING:
        assert summary.restarts >= 2
    expected = sequence(reference_url, "c")

    crashed = tmp_path / "crashed.db"
    url = f"sqlite:///{crashed}"
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    process = subprocess.Popen([sys.executable, "-m", "automl", "run", str(config_file),
                                "--db", url, "--name", "c", "--json"],
                               cwd=tmp_path, env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while evaluated_count(crashed) < BUDGET // 3 and time.monotonic() < deadline:
        assert process.poll() is None, "the campaign ended before it could be killed"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = evaluated_count(crashed)
    assert BUDGET // 3 <= killed_at < BUDGET, killed_at
    with Store.open(url) as store:
        assert store.get_campaign("c").status == "running"  # it never got to say otherwise

    # --force: its heartbeat is seconds old, but we know the owner is dead (tests/test_lease.py
    # waits out the grace period instead)
    result = subprocess.run([sys.executable, "-m", "automl", "resume", "c", "--db", url,
                             "--force", "--json"], cwd=tmp_path, env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    resumed = sequence(url, "c")
    assert sum(row[3] != "duplicate" for row in resumed) == BUDGET
    assert [row[0] for row in resumed] == list(range(len(resumed)))  # no gap, no repeat
    assert resumed == expected


class Crash(Exception):
    pass


class HoldingExecutor(Executor):
    """Evaluates like the local executor but never returns the tasks submitted at positions
    `hold` (their worker is still busy), and crashes the controller once `crash_after`
    candidates were submitted."""

    def __init__(self, inner: LocalExecutor, hold: set[int], crash_after: int | None = None):
        self.inner, self.hold, self.crash_after = inner, hold, crash_after
        self.batch_size, self.capacity = inner.batch_size, inner.capacity * 4
        self.submitted: list[int] = []
        self.held: set[int] = set()
        self.starts: dict[int, object] = {}  # where each task's constant fit starts

    def submit(self, tasks: Sequence[EvaluationTask]) -> None:
        run = []
        for task in tasks:
            self.starts[task.candidate_number] = task.program.parameter_values
            if len(self.submitted) in self.hold:
                self.held.add(task.candidate_number)
            else:
                run.append(task)
            self.submitted.append(task.candidate_number)
        self.inner.submit(run)

    def poll(self, timeout: float | None) -> list[EvaluationResult]:
        if self.crash_after is not None and len(self.submitted) >= self.crash_after:
            raise Crash
        return self.inner.poll(timeout)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["regularized", "nsga2"])
def test_candidates_in_flight_at_a_crash_are_dispatched_again_once(tmp_path, strategy):
    config = parse_config(CONFIG.replace("strategy: nsga2", f"strategy: {strategy}"))
    url = f"sqlite:///{tmp_path / 'c.db'}"
    with Store.open(url) as store:
        controller = CampaignController.create(config, store, "c")
        inner = LocalExecutor("autonumerics", config.space.settings, 4, space=controller.space)
        controller.executor = HoldingExecutor(inner, {5, 6, 20, 36}, crash_after=48)
        with pytest.raises(Crash):  # no graceful stop: the store has the last flush only
            controller._loop(time.monotonic())
        campaign_id = controller.campaign.id
        first = controller.executor
        held = first.held
        assert len(held) == 4
        in_flight = {row.number for row in store.load_in_flight(campaign_id)}
        stored = {row.number for row in store.load_candidates(campaign_id)}
        assert held <= in_flight and not in_flight & stored

    with Store.open(url) as store:  # a new process would start here
        # the crashed controller's lease is still counted alive in this process (a
        # controller holds it from its creation on): its owner is known dead, so --force
        resumed = CampaignController.resume(store, "c", force=True)
        executor = HoldingExecutor(LocalExecutor("autonumerics", config.space.settings, 4,
                                                 space=resumed.space), set())
        resumed.executor = executor
        resumed.run()
        rows = store.load_candidates(campaign_id)
        assert store.load_in_flight(campaign_id) == []
    status = {row.number: row.status for row in rows}
    evaluated = [row.number for row in rows if row.status != "duplicate"]
    assert len(evaluated) == len(set(evaluated)) == BUDGET
    assert [row.number for row in rows] == list(range(len(rows)))
    # what was in flight is dispatched again first, once; in-flight cache hits wait for it
    redispatched = sorted(n for n in in_flight if status[n] != "duplicate")
    assert held <= set(redispatched)
    assert executor.submitted[:len(redispatched)] == redispatched
    assert len(executor.submitted) == len(set(executor.submitted))
    # ... from where their fits started then (their parents' constants, kept in the state)
    assert any(first.starts[n] for n in redispatched)
    assert all(executor.starts[n] == first.starts[n] for n in redispatched)


@pytest.mark.slow
def test_in_flight_rows_and_state_commit_with_their_batch(db_url):
    """Store level, both backends: what is dispatched, what landed and the controller state
    are written in the batch's transaction; a failing batch leaves the previous one."""
    from automl.store import CandidateRow, StoreError

    def row(number: int, status: str = "in_flight") -> CandidateRow:
        return CandidateRow(number, "f = x\n", (), None, f"{number:032x}", status)

    with Store.open(db_url) as store:
        campaign = store.create_campaign("c", "autonumerics", 0, {}, "s", "v")
        store.write_batch(campaign.id, dispatched=[row(0), row(1), row(2)],
                          state={"population": [[7, [0.5, float("inf")]]]})
        assert [r.number for r in store.load_in_flight(campaign.id)] == [0, 1, 2]
        store.write_batch(campaign.id, candidates=[row(1, "evaluated")], landed=[1],
                          state={"population": [[1, [0.25, 3.0]]]})
        assert [r.number for r in store.load_in_flight(campaign.id)] == [0, 2]
        with pytest.raises(StoreError):  # candidate 1 again: the whole batch rolls back
            store.write_batch(campaign.id, candidates=[row(1, "evaluated")], landed=[0],
                              state={"population": []})
        assert [r.number for r in store.load_in_flight(campaign.id)] == [0, 2]
        assert store.load_state(campaign.id) == {"population": [[1, [0.25, 3.0]]]}
