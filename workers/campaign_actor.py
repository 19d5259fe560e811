"""The campaign controller as a detached, named Ray actor: `automl run --detach` starts a
campaign on a cluster and returns; the campaign lives on the cluster (not in the launching
terminal) until it ends or `automl stop NAME` asks it to stop at a safe point.

The client creates the campaign row first (so a bad config or a taken name fails at once, in
the terminal); the actor then continues it with `CampaignController.resume`, the same path as
after a crash, writing to the same database (which must be reachable from the cluster).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from automl.config import CampaignConfig

NAMESPACE = "automl"


def actor_name(campaign: str) -> str:
    return f"campaign:{campaign}"


class CampaignActor:
    """Runs one campaign. Threaded (max_concurrency 2): `stop` runs beside `run`."""

    def __init__(self, database: str, campaign: str) -> None:
        self.database, self.campaign = database, campaign
        self.controller: Any = None

    def run(self) -> dict[str, Any]:
        from automl.controller import CampaignController
        from automl.store import Store

        with Store.open(self.database) as store:
            self.controller = CampaignController.resume(store, self.campaign)
            summary = self.controller.run()
        return {"campaign": summary.campaign.name, "status": summary.campaign.status,
                "candidates": summary.candidates, "evaluations": summary.evaluations}

    def stop(self) -> bool:
        """Stop making candidates; what is in flight finishes and everything is stored."""
        if self.controller is None:
            return False
        self.controller.request_stop()
        return True


def start_detached(database: str, campaign: str) -> Any:
    """Start the actor (it outlives this process) and its `run`; returns the actor."""
    import ray

    actor = ray.remote(CampaignActor).options(
        name=actor_name(campaign), namespace=NAMESPACE, lifetime="detached",
        max_concurrency=2, num_cpus=0,
    ).remote(database, campaign)
    actor.run.remote()
    return actor


def launch_detached(config: CampaignConfig, database: str, campaign: str) -> None:
    """``automl run --detach`` with ``executor.kind: ray`` (entry point ``automl.launchers``):
    continue the created campaign `campaign` on the config's cluster, and return."""
    from workers.ray_executor import ensure_ray

    ensure_ray(config.executor.address, dashboard=config.executor.dashboard)
    start_detached(database, campaign)


def stop_detached(campaign: str) -> bool:
    """Ask the campaign's actor to stop; False when no such actor runs on this cluster."""
    import ray

    try:
        actor = ray.get_actor(actor_name(campaign), namespace=NAMESPACE)
    except ValueError:
        return False
    return bool(ray.get(actor.stop.remote(), timeout=30))
