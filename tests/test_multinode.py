"""A campaign across a real multi-node Ray cluster (`ray.cluster_utils.Cluster`: a head and
worker nodes, each its own raylet): workers land only where the custom resource they require
is; the node holding them is removed mid-campaign and a replacement joins; the campaign
completes with every candidate stored once."""

from __future__ import annotations

import time

import pytest

from automl.config import parse_config
from automl.controller import CampaignController
from automl.store import Store

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray

BUDGET = 240
CONFIG = f"""
seed: 3
space: {{name: autonumerics, settings: {{target: exp2, fit_constants: true, max_statements: 10}}}}
evolution: {{strategy: nsga2, population_size: 16}}
budget: {{max_evaluations: {BUDGET}}}
executor: {{kind: ray, workers: 2, batch_size: 8, num_cpus_per_worker: 0,
           resources_per_worker: {{evaluator: 1}}}}
"""


def worker_nodes(executor) -> set[str]:
    return {ray.get(actor.node.remote()) for actor in executor.actors}


def test_a_campaign_survives_losing_the_node_its_workers_run_on(tmp_path):
    from ray.cluster_utils import Cluster

    from workers.ray_executor import EvaluationWorker, RayExecutor

    class LocatedWorker(EvaluationWorker):  # ships by value: says which node it runs on
        def node(self) -> str:
            return ray.get_runtime_context().get_node_id()

    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)  # no `evaluator`: never hosts a worker
        evaluators = cluster.add_node(num_cpus=1, resources={"evaluator": 2})
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, logging_level="ERROR")
        config = parse_config(CONFIG)
        executor = RayExecutor("autonumerics", config.space.settings, workers=2,
                               batch_size=8, num_cpus=0, resources={"evaluator": 1},
                               worker_class=LocatedWorker)
        assert worker_nodes(executor) == {evaluators.node_id}
        replacement: dict[str, object] = {}

        def lose_the_node(progress) -> None:
            """Runs in the controller's loop (the main thread, which Ray needs to start a
            node): remove the workers' node once a third of the budget is done, and let a
            replacement join a second later, as an autoscaler would."""
            if progress.evaluations >= BUDGET // 3 and "removed_at" not in replacement:
                cluster.remove_node(evaluators)
                replacement["removed_at"] = time.monotonic()
            elif "removed_at" in replacement and "node" not in replacement and \
                    time.monotonic() - replacement["removed_at"] > 1.0:
                replacement["node"] = cluster.add_node(num_cpus=1, resources={"evaluator": 2})

        with Store.open(f"sqlite:///{tmp_path / 'multi.db'}") as store:
            controller = CampaignController.create(config, store, "multi", executor=executor,
                                                   on_progress=lose_the_node)
            summary = controller.run()
            candidates = store.load_candidates(summary.campaign.id)
            evaluations = store.load_evaluations(summary.campaign.id)
        assert replacement.get("node") is not None, "the node was removed mid-campaign"
        assert worker_nodes(executor) == {replacement["node"].node_id}
        assert summary.campaign.status == "finished"
        assert [c.number for c in candidates] == list(range(summary.candidates))
        evaluated = [c.number for c in candidates if c.status != "duplicate"]
        assert len(evaluated) == BUDGET == len({e.candidate_number for e in evaluations
                                                 if e.worker != "cache"})
        lost = [e.error for e in evaluations if e.error and (
            "worker" in e.error or "batch evaluation raised" in e.error)]
        assert not lost, "batches of the lost node are re-run elsewhere, not given up"
        executor.close()
    finally:
        ray.shutdown()
        cluster.shutdown()
