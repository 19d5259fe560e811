"""A campaign has exactly one live owner: the lease.

The process (or Ray actor) that runs a campaign records who it is in the campaign's row
(`owner_identity`: host, pid, a random token, and the Ray job and actor when it runs inside
Ray) and renews a heartbeat there every ``lease.heartbeat_seconds``. A running campaign whose
heartbeat is older than ``lease.grace_seconds`` (both on the database's clock) is *stale*: its
owner died or lost the database, and `automl resume` may take it over, atomically
(`Store.take_lease`). Campaigns created before leases existed have no heartbeat: a running one
of them is stale.

The heartbeat runs on a daemon thread (`Heartbeat`) with its own pooled connection and one
short transaction per beat, not from the campaign loop: a local evaluation or a long write
batch does not delay it. (A write batch also renews the heartbeat, and on SQLite a beat waits
for a batch that holds the write lock; a beat that fails for such a reason is retried at the
next one, so only an owner that cannot reach the database for the whole grace period looks
dead.) A beat that finds another owner in the row marks the lease lost; the controller stops
at its next safe point without writing, and every write batch of a leased campaign checks the
lease in its own transaction first, so a controller that wakes up after a partition cannot
write even between two beats.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import threading
from typing import Any

from automl.store import CampaignRecord, Store, StoreError
from automl.store.errors import LeaseHeld
from automl.store.repository import lost_lease_message

DEFAULT_GRACE_SECONDS = 30.0  # that of `LeaseConfig`, for campaigns stored without one
LIVENESS = ("running", "stale", "stopped", "failed", "finished")


def owner_identity() -> dict[str, Any]:
    """Who runs a campaign: host, pid, a token telling two owners in one process apart, and
    the Ray job and actor ids when this process runs inside Ray (the module is only looked up,
    never imported: the core does not import Ray)."""
    identity: dict[str, Any] = {"host": socket.gethostname(), "pid": os.getpid(),
                                "token": secrets.token_hex(8)}
    ray = sys.modules.get("ray")
    if ray is not None:
        try:
            if ray.is_initialized():
                context = ray.get_runtime_context()
                identity["ray_job_id"] = context.get_job_id()
                actor = context.get_actor_id()
                if actor:
                    identity["ray_actor_id"] = actor
        except Exception:  # noqa: BLE001 - identity is informative, never a reason to fail
            pass
    return identity


def owner_text(identity: dict[str, Any]) -> str:
    """The identity as stored (and compared) in the campaign row."""
    return json.dumps(identity, sort_keys=True, separators=(",", ":"))


# tokens of the leases a controller of this process holds, from the moment it took one until
# its heartbeat stops: a lease of this process outside the set (a controller that crashed, or
# ended) is known dead here without waiting for the grace period, while one that was taken
# and has not started beating yet is not taken over
_BEATING: set[str] = set()


def hold(owner: str) -> None:
    """Count the lease of `owner` (an `owner_text`) as alive in this process."""
    _BEATING.add(json.loads(owner)["token"])


def release(owner: str) -> None:
    """The lease of `owner` is given up (or its controller failed): no longer alive here."""
    _BEATING.discard(json.loads(owner)["token"])


def acquire(store: Store, record: CampaignRecord, owner: str, grace_seconds: float,
            force: bool = False) -> None:
    """Take the campaign's lease for `owner` (`Store.take_lease`), also from an owner of this
    same process whose heartbeat no longer runs; `LeaseHeld` when a live owner holds it."""
    try:
        store.take_lease(record.id, owner, grace_seconds, force=force)
        hold(owner)
        return
    except LeaseHeld as refused:
        current = store.get_campaign(record.id, counts=False)
        holder = current.owner or {}
        ours = (holder.get("host") == socket.gethostname() and holder.get("pid") == os.getpid()
                and holder.get("token") not in _BEATING)
        if not ours:
            raise refused from None
        # compare-and-swap: only if that dead owner of this process still holds it
        store.take_lease(record.id, owner, grace_seconds, force=True,
                         expected_owner=owner_text(holder))
        hold(owner)


class Heartbeat:
    """Renews the lease every `interval` seconds on a daemon thread until `stop`; `lost`
    says why the lease is gone (None while held)."""

    def __init__(self, store: Store, campaign_id: int, owner: str, interval: float) -> None:
        self.store, self.campaign_id, self.owner, self.interval = (store, campaign_id, owner,
                                                                   interval)
        self.lost: str | None = None
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{campaign_id}",
                                        daemon=True)

    def start(self) -> Heartbeat:
        hold(self.owner)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        release(self.owner)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                held = self.store.renew_lease(self.campaign_id, self.owner)
            except StoreError:
                continue  # locked or unreachable for now: the next beat tries again
            self.beats += 1
            if not held:
                try:
                    holder = self.store.lease_holder(self.campaign_id)
                except StoreError:
                    holder = "another owner holds it"
                self.lost = lost_lease_message(self.campaign_id, holder)
                return


def grace_of(record: CampaignRecord) -> float:
    """The campaign's grace period, from its stored config (default for older ones)."""
    lease = (record.config or {}).get("lease") or {}
    return float(lease.get("grace_seconds", DEFAULT_GRACE_SECONDS))


def liveness(record: CampaignRecord) -> tuple[str, str]:
    """(one of `LIVENESS`, the words `automl status` and `ls` show): ``running``, ``stale
    (last heartbeat 2 min ago, host h pid p)``, ``stopped``, ``failed (reason)``,
    ``finished``."""
    from automl.store.repository import describe_owner

    status = record.status
    if status == "failed":
        return "failed", f"failed ({record.failure or 'no reason recorded'})"
    if status != "running":
        return status, status
    if record.heartbeat_at is None:
        return "stale", f"stale (no heartbeat, owner {describe_owner(record.owner)})"
    age = heartbeat_age(record)
    if age is not None and age <= grace_of(record):
        return "running", "running"
    return "stale", (f"stale (last heartbeat {_ago(age or 0.0)} ago, "
                     f"{describe_owner(record.owner)})")


def heartbeat_age(record: CampaignRecord) -> float | None:
    """Seconds since the last heartbeat, on the database's clock (None: no heartbeat)."""
    if record.heartbeat_at is None or record.checked_at is None:
        return None
    return max(0.0, record.checked_at - record.heartbeat_at)


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"
