"""LocalExecutor and RayExecutor behind one interface, on a real local Ray instance."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from automl.config import parse_config
from automl.controller import CampaignController
from automl.executor import EvaluationTask, LocalExecutor
from automl.plugins import get_space
from automl.store import Store

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray

SETTINGS = {"target": "exp2", "fit_constants": True, "max_statements": 10}


@pytest.fixture(scope="module")
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield
    ray.shutdown()


def tasks(count: int, seed: int = 0) -> list[EvaluationTask]:
    space = get_space("autonumerics", SETTINGS)
    rng = np.random.default_rng(seed)
    programs = []
    while len(programs) < count:
        program, _ = space.mutate(space.random(rng), rng)
        programs.append(space.simplify(program)[0])
    return [EvaluationTask(number, program) for number, program in enumerate(programs)]


def drain(executor, expected: int, timeout: float = 120.0):
    results = []
    deadline = time.monotonic() + timeout
    while len(results) < expected and time.monotonic() < deadline:
        results.extend(executor.poll(timeout=1.0))
    return results


def test_ray_and_local_executors_give_the_same_results(local_ray):
    from workers.ray_executor import RayExecutor

    work = tasks(24)
    local = LocalExecutor("autonumerics", SETTINGS)
    local.submit(work)
    expected = {r.candidate_number: r.evaluation for r in local.poll(None)}
    with RayExecutor("autonumerics", SETTINGS, workers=2, batch_size=5) as executor:
        executor.submit(work)
        results = drain(executor, len(work))
    assert sorted(r.candidate_number for r in results) == list(range(len(work)))
    workers = {r.worker for r in results}
    assert len(workers) == 2 and all(w.startswith("ray:") for w in workers)
    for result in results:
        assert result.evaluation.objectives == expected[result.candidate_number].objectives
        assert result.evaluation.error == expected[result.candidate_number].error


def worker_pid(actor, timeout: float = 60.0) -> int:
    """The worker's process id once it answers: right after a restart Ray may still report the
    actor as temporarily unavailable (ActorUnavailableError), which is not a failure."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return int(ray.get(actor.ping.remote()).rsplit(":", 1)[1])
        except ray.exceptions.ActorUnavailableError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_batch_whose_worker_dies_is_retried_and_nothing_is_lost(local_ray):
    from workers.ray_executor import RayExecutor

    work = tasks(120, seed=1)  # fitting ~10-30 ms each: the batch runs for a second or more
    with RayExecutor("autonumerics", SETTINGS, workers=1, batch_size=120) as executor:
        pid = worker_pid(executor.actors[0])
        executor.submit(work)
        time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)
        results = drain(executor, len(work), timeout=180)
        new_pid = worker_pid(executor.actors[0])
    assert new_pid != pid, "the actor was restarted"
    numbers = [r.candidate_number for r in results]
    assert sorted(numbers) == list(range(len(work))), "each candidate answered exactly once"
    assert not any("worker failed" in (r.evaluation.error or "") for r in results)


def test_a_campaign_on_ray_stores_every_candidate_and_dedups(local_ray, tmp_path):
    config = parse_config("""
space:
  name: autonumerics
  settings: {target: exp2, fit_constants: false, max_statements: 10}
evolution: {strategy: nsga2, population_size: 20}
budget: {max_evaluations: 300}
executor: {kind: ray, workers: 2, batch_size: 16}
""")
    with Store.open(f"sqlite:///{tmp_path / 'ray.db'}") as store:
        summary = CampaignController.create(config, store, "on-ray").run()
        candidates = store.load_candidates(summary.campaign.id)
    assert [c.number for c in candidates] == list(range(summary.candidates))
    evaluated = [c.functional_hash for c in candidates if c.status != "duplicate"]
    assert len(evaluated) == summary.evaluations == 300
    assert len(set(evaluated)) == len(evaluated), "no function dispatched twice"
    assert summary.front


def test_a_runaway_evaluation_times_out_alone_and_the_rest_of_its_batch_is_kept(local_ray):
    """Candidate 5 hangs: its batch's worker is killed at the deadline, the batch is retried
    one candidate at a time, and only candidate 5 fails, with the reason, after overrunning
    twice alone."""
    from workers.ray_executor import EvaluationWorker, RayExecutor

    class HangingWorker(EvaluationWorker):  # defined here: Ray ships it to the workers by value
        def evaluate(self, tasks):
            if any(task.candidate_number == 5 for task in tasks):
                time.sleep(3600)
            return super().evaluate(tasks)

    work = tasks(12, seed=2)
    expected = evaluate_locally(work)
    started = time.monotonic()
    with RayExecutor("autonumerics", SETTINGS, workers=2, batch_size=4,
                     evaluation_timeout_s=1.0, worker_class=HangingWorker) as executor:
        executor.submit(work)
        results = drain(executor, len(work), timeout=120)
    assert sorted(r.candidate_number for r in results) == list(range(12))
    by_number = {r.candidate_number: r.evaluation for r in results}
    timed_out = by_number.pop(5)
    assert "exceeded the timeout of 1 s twice" in timed_out.error and not timed_out.transient
    for number, evaluation in by_number.items():  # the others: as if nothing had happened
        assert (evaluation.objectives, evaluation.error) == (
            expected[number].objectives, expected[number].error)
    assert time.monotonic() - started < 60


def test_a_candidate_that_overruns_once_alone_gets_a_second_try(local_ray, tmp_path):
    """A lone candidate's first overrun can be the node's load, not the program: candidate 3
    stalls only on its first try; its retry on the restarted worker is what gets recorded."""
    from workers.ray_executor import EvaluationWorker, RayExecutor

    marker = tmp_path / "candidate-3-stalled"

    class StallsOnceWorker(EvaluationWorker):  # the marker outlives the killed process
        def evaluate(self, tasks):
            if any(task.candidate_number == 3 for task in tasks) and not marker.exists():
                marker.touch()
                time.sleep(3600)
            return super().evaluate(tasks)

    work = tasks(6, seed=3)
    expected = evaluate_locally(work)
    with RayExecutor("autonumerics", SETTINGS, workers=2, batch_size=1,
                     evaluation_timeout_s=1.0, worker_class=StallsOnceWorker) as executor:
        executor.submit(work)
        results = drain(executor, len(work), timeout=120)
    assert marker.exists(), "candidate 3 did stall once"
    assert sorted(r.candidate_number for r in results) == list(range(6))
    for result in results:
        assert (result.evaluation.objectives, result.evaluation.error) == (
            expected[result.candidate_number].objectives,
            expected[result.candidate_number].error)


def evaluate_locally(work: list[EvaluationTask]) -> dict:
    local = LocalExecutor("autonumerics", SETTINGS, len(work))
    local.submit(work)
    return {r.candidate_number: r.evaluation for r in local.poll(0)}


def wait_for_status(url: str, name: str, wanted: set[str], timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Store.open(url) as store:
            record = store.get_campaign(name)
        if record.status in wanted:
            return record
        time.sleep(0.2)
    raise AssertionError(f"campaign {name} still {record.status}")


def test_a_detached_campaign_runs_on_the_cluster_and_stops_on_request(local_ray, tmp_path):
    """`automl run --detach` returns at once; the controller lives on as a named actor until
    the campaign ends, or until `automl stop` asks it to stop at a safe point."""
    from typer.testing import CliRunner

    from automl.cli import app

    runner = CliRunner()
    config = tmp_path / "d.yaml"
    config.write_text("""
space: {name: autonumerics, settings: {target: exp2, fit_constants: true, max_statements: 8}}
evolution: {strategy: nsga2, population_size: 8}
budget: {max_evaluations: 40}
executor: {kind: local, workers: 1, batch_size: 4}
""")
    url = f"sqlite:///{tmp_path / 'd.db'}"
    result = runner.invoke(app, ["run", str(config), "--db", url, "--name", "d1", "--detach",
                                 "--address", "auto", "--json"])
    assert result.exit_code == 0, result.output
    record = wait_for_status(url, "d1", {"finished", "failed"})
    assert record.status == "finished" and record.evaluation_count == 40
    taken = runner.invoke(app, ["run", str(config), "--db", url, "--name", "d1", "--detach",
                                "--address", "auto"])
    assert taken.exit_code == 2 and "already exists" in taken.output

    long = runner.invoke(app, ["run", str(config), "--db", url, "--name", "d2", "--detach",
                               "--address", "auto", "--max-evals", "100000"])
    assert long.exit_code == 0, long.output
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with Store.open(url) as store:
            if store.get_campaign("d2").evaluation_count >= 8:
                break
        time.sleep(0.2)
    stopped = runner.invoke(app, ["stop", "d2", "--address", "auto"])
    assert stopped.exit_code == 0, stopped.output
    record = wait_for_status(url, "d2", {"stopped", "finished", "failed"})
    assert record.status == "stopped" and 8 <= record.evaluation_count < 100000
    missing = runner.invoke(app, ["stop", "nope", "--address", "auto"])
    assert missing.exit_code == 2 and "no detached campaign 'nope'" in missing.output
