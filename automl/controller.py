"""The campaign loop: steady-state, asynchronous, multi-objective evolution.

One candidate's path::

    population.select -> space.mutate -> simplify -> fingerprint      (automl.candidates)
        -> cache lookup: hit, in flight or miss                          (automl.ledger)
        -> executor.submit(batch) -> ... -> result                       (automl.executor)
        -> rows, cache, front, population                               (automl.ledger)
        -> store, with the campaign state, one transaction per batch    (automl.row_buffer)

The controller owns the loop and the campaign's lifecycle: create, resume (`automl.resume`),
run until the budget is spent or a stop is asked for, and the summary. It is the only writer to
the store. With the local executor the same config and seed give the same candidates.

It holds the campaign's lease while it runs (`automl.lease`): taken when it creates or resumes
the campaign, renewed by a heartbeat thread, given up with the final status. A controller that
loses the lease stops at its next safe point without writing (`LeaseLost`); one that dies on an
error records ``failed`` with the reason when the database still takes it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from automl import environment, lease
from automl.cache import CacheEntry, FunctionalCache
from automl.campaign_state import CampaignState
from automl.candidates import CandidateFactory
from automl.config import CampaignConfig, stored_config
from automl.evolution.front import FrontMember
from automl.evolution.restarts import configured_strategy
from automl.executor import EvaluationTask, Executor, make_executor
from automl.ledger import CampaignLedger
from automl.metrics import CampaignMetrics
from automl.plugins import get_space
from automl.progress import CampaignSummary, Progress
from automl.resume import CampaignParts, restore
from automl.row_buffer import RowBuffer
from automl.space import SearchSpace
from automl.store import CampaignRecord, Store, StoreError, safe_url
from automl.store.errors import LeaseLost
from automl.version import __version__

# Without a candidate cap, a search stuck on cache hits would never reach its evaluation budget.
DEFAULT_CANDIDATES_PER_EVALUATION = 50
CODE_VERSION = __version__  # stamped on every campaign it creates
SHARED_CACHE_PULL_SECONDS = 5.0


class CampaignController:
    def __init__(self, config: CampaignConfig, store: Store, campaign: CampaignRecord,
                 executor: Executor | None = None, space: SearchSpace | None = None,
                 on_progress: Callable[[Progress], None] | None = None):
        self.config, self.store, self.campaign = config, store, campaign
        self.space = space or get_space(config.space.name, config.space.settings)
        self.executor, self.on_progress = executor, on_progress
        self.objectives = self.space.objectives
        self.population = configured_strategy(config.evolution,
                                              [o.name for o in self.objectives])
        self.cache = FunctionalCache(
            campaign.settings_hash, enabled=config.cache.enabled,
            evaluations_per_entry=config.cache.evaluations_per_entry,
            forget_probability=config.cache.forget_probability,
            capacity=config.cache.memory_entries, backing=self._stored_cache_entry)
        budget = config.budget
        self.max_evaluations = budget.max_evaluations
        self.max_candidates = budget.max_candidates or (
            DEFAULT_CANDIDATES_PER_EVALUATION * budget.max_evaluations)
        self.next_number = 0
        self.factory = CandidateFactory(config, self.space)
        self.buffer = RowBuffer(store, campaign.id, campaign.settings_hash,
                                config.store.flush_rows, config.store.flush_seconds)
        self.ledger = CampaignLedger(self.space, self.cache, self.population, self.buffer,
                                     config.seed)
        self.stop_requested = False
        self.metrics: CampaignMetrics | None = None  # Ray dashboard metrics, set by run()
        self._last_report = self._last_hypervolume = 0.0
        self._shared_after = 0  # shared cache: id of the last foreign entry seen
        self._last_shared_pull = -float("inf")
        # in flight when the campaign stopped: dispatched first when it runs again
        self.redispatch: list[EvaluationTask] = []
        self.owner: str | None = None  # the lease this controller holds (`automl.lease`)
        self.heartbeat: lease.Heartbeat | None = None  # renewing it while `run` runs

    # -- campaign lifecycle ---------------------------------------------------------------
    @classmethod
    def create(cls, config: CampaignConfig, store: Store, name: str, hold_lease: bool = True,
               **kwargs: Any) -> CampaignController:
        """A new campaign, leased to this controller from its creation on. Without
        `hold_lease` (a campaign created here for another process to run: `run --detach`) it
        is stored stopped, with no owner and no heartbeat, so that process's resume takes it
        at once (and, should it never start, the campaign reads as stopped, not stale).
        Libraries the space needs (`SearchSpace.check_requirements`) are checked first:
        a missing extra stores nothing."""
        space = kwargs.pop("space", None) or get_space(config.space.name, config.space.settings)
        space.check_requirements()
        owner = lease.owner_text(lease.owner_identity()) if hold_lease else None
        recorded = config.model_dump(mode="json")
        # the campaign row is shared with everyone who reads the database: no password in it
        recorded["database"] = safe_url(config.database)
        campaign = store.create_campaign(
            name=name, space=config.space.name, seed=config.seed, config=recorded,
            settings_hash=space.settings_hash(), code_version=CODE_VERSION,
            objectives=[(o.name, o.direction) for o in space.objectives],
            environment=environment.capture(space.plugins()), owner=owner,
            status="running" if hold_lease else "stopped",
        )
        controller = cls(config, store, campaign, space=space, **kwargs)
        controller.owner = owner
        if owner is not None:
            lease.hold(owner)
        return controller

    @classmethod
    def resume(cls, store: Store, campaign: int | str, force: bool = False,
               max_evaluations: int | None = None, **kwargs: Any) -> CampaignController:
        """Continue a stored campaign from the database alone: population, cache, counters.

        Takes the campaign's lease first (`LeaseHeld` while a live owner holds it; `force`
        takes it anyway, for an owner known to be dead). `max_evaluations` replaces the
        stored evaluation budget (to extend a finished campaign)."""
        record = store.get_campaign(campaign)
        config = stored_config(record.config, record.name)
        if max_evaluations is not None:
            config.budget.max_evaluations = max_evaluations
        controller = cls(config, store, record, **kwargs)
        if controller.space.settings_hash() != record.settings_hash:
            raise ValueError(
                f"campaign {record.name!r}: evaluation settings changed since it started "
                f"(space settings or evaluator version); its stored results would not be "
                f"comparable, so it cannot be resumed with this code")
        owner = lease.owner_text(lease.owner_identity())
        lease.acquire(store, record, owner, config.lease.grace_seconds, force=force)
        controller.owner = owner
        try:
            if max_evaluations is not None:
                recorded = dict(record.config)
                recorded["budget"] = {**recorded.get("budget", {}),
                                      "max_evaluations": max_evaluations}
                store.update_campaign_config(record.id, recorded)
            controller.next_number, controller.redispatch = restore(CampaignParts(
                store, record, controller.factory, controller.ledger, controller.buffer))
        except BaseException:
            # a resume that fails before it runs leaves the campaign as it found it (its
            # status and failure reason), not "running" with nobody beating for it; one found
            # stale is stopped now (nobody runs it)
            status = "stopped" if record.status == "running" else record.status
            lease.release(owner)
            with contextlib.suppress(StoreError):  # if the database failed, the lease
                store.end_lease(record.id, owner, status, record.failure)  # expires alone
            raise
        return controller

    def run(self) -> CampaignSummary:
        start = time.monotonic()
        owns_executor = self.executor is None
        self.metrics = self.ledger.metrics = CampaignMetrics(
            self.campaign.name, self.campaign.space, [o.name for o in self.objectives])
        if self.owner is None:  # a controller built by hand holds no lease
            self.store.set_campaign_status(self.campaign.id, "running")
        else:
            self.heartbeat = lease.Heartbeat(self.store, self.campaign.id, self.owner,
                                             self.config.lease.heartbeat_seconds).start()
        status, failure, lost = "failed", None, None
        previous_handler = self._stop_on_interrupt()
        try:
            if self.executor is None:  # inside: a cluster that refuses us fails the campaign
                self.executor = make_executor(self.config, self.space)
            self._pull_shared_cache()
            self._loop(start)
            status = "stopped" if self.stop_requested else "finished"
        except KeyboardInterrupt:
            self.stop_requested = True
            status = "stopped"
            self._drain(timeout=0.0)
            self._report_metrics(final=True)  # the drained results reach the dashboard too
        except LeaseLost as error:
            lost = error
            raise
        except BaseException as error:
            failure = failure_reason(error)
            raise
        finally:
            if previous_handler is not None:
                signal.signal(signal.SIGINT, previous_handler)
            try:
                if lost is None:
                    self._finish(status, failure)
            finally:
                if self.heartbeat is not None:
                    self.heartbeat.stop()
                if lost is not None or self.owner is not None:
                    self.store.forget_lease(self.campaign.id)
                if owns_executor and self.executor is not None:
                    self.executor.close()
        return self.summary(time.monotonic() - start)

    def _finish(self, status: str, failure: str | None) -> None:
        """Store what is buffered, then the final status (with the failure's reason) while
        this controller still holds the lease. Under an error already on its way up (`failure`
        set), a database that refuses these too is left as it is: the lease expiry shows it."""
        try:
            self.flush()
        except LeaseLost:
            raise
        except StoreError as error:
            if failure is None:  # the loop ended well but the last batch could not be stored
                self._end(status="failed", failure=failure_reason(error), quiet=True)
                raise
            self._end(status="failed", failure=failure, quiet=True)
            return
        self._end(status, failure, quiet=failure is not None)

    def _end(self, status: str, failure: str | None, quiet: bool) -> None:
        try:
            if self.owner is None:
                self.store.set_campaign_status(self.campaign.id, status)
            else:
                self.store.end_lease(self.campaign.id, self.owner, status, failure)
        except LeaseLost:
            raise
        except StoreError:
            if not quiet:
                raise

    def request_stop(self) -> None:
        """Stop making candidates at the next safe point: what is in flight finishes and
        everything is stored (Ctrl-C, or `automl stop` for a detached campaign)."""
        self.stop_requested = True

    def _stop_on_interrupt(self) -> Any:
        """First Ctrl-C: stop making candidates, finish what is in flight, store everything.
        A second Ctrl-C interrupts at once (what finished is still stored)."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def on_interrupt(signum: int, frame: Any) -> None:
            if self.stop_requested:
                raise KeyboardInterrupt
            self.request_stop()

        return signal.signal(signal.SIGINT, on_interrupt)

    def _budget_left(self, start: float) -> bool:
        max_seconds = self.config.budget.max_seconds
        return (not self.stop_requested
                and self.ledger.evaluations < self.max_evaluations
                and self.next_number < self.max_candidates
                and (max_seconds is None or time.monotonic() - start < max_seconds))

    def _loop(self, start: float) -> None:
        executor, ledger = self.executor, self.ledger
        assert executor is not None
        if self.redispatch:
            executor.submit(self.redispatch)
            self.redispatch = []
        while True:
            if self.heartbeat is not None and self.heartbeat.lost:  # a safe point: stop here
                raise LeaseLost(self.heartbeat.lost)
            batch: list[EvaluationTask] = []
            while (self._budget_left(start)
                   and len(ledger.outstanding) < executor.capacity
                   and len(batch) < executor.batch_size):
                candidate = self.factory.make(self.next_number, self.population,
                                              awaiting_results=bool(ledger.outstanding))
                if candidate is None:  # needs a parent but none has been evaluated yet
                    break
                self.next_number += 1
                if ledger.record_lookup(candidate):
                    batch.append(EvaluationTask(candidate.number, candidate.program))
            if batch:
                executor.submit(batch)
            if not ledger.outstanding and not batch and not self._budget_left(start):
                break
            for result in executor.poll(timeout=0.05 if ledger.outstanding else 0.0):
                ledger.record_result(result)
            # everything answered this round joins the population before a flush can
            # snapshot it: the stored state is always consistent with the stored rows
            ledger.admit_answered()
            if self.buffer.due():
                self.flush()
            self._report_progress()
        self._report_progress(final=True)

    def _drain(self, timeout: float) -> None:
        if self.executor is not None:
            for result in self.executor.poll(timeout=timeout):
                if result.candidate_number in self.ledger.outstanding:
                    self.ledger.record_result(result)

    # -- storage --------------------------------------------------------------------------
    def flush(self) -> None:
        """Write, in one transaction: buffered rows, changed cache entries, which candidates
        are in flight, and the campaign state (what `resume` continues from after a crash)."""
        self.ledger.admit_answered()
        in_flight = self.ledger.in_flight
        self.buffer.flush(self.cache, in_flight, lambda: CampaignState(
            self.population.state(),
            {n: c.start for n, c in in_flight.items() if c.start}))
        if time.monotonic() - self._last_shared_pull >= SHARED_CACHE_PULL_SECONDS:
            self._pull_shared_cache()

    def _stored_cache_entry(self, functional_hash: str) -> CacheEntry | None:
        """The cache's `backing`: an entry no longer in memory, from the store."""
        row = self.store.load_cache_entry(self.campaign.id, self.campaign.settings_hash,
                                          functional_hash)
        return None if row is None else CacheEntry.from_row(row)

    def _pull_shared_cache(self) -> None:
        """Shared cache: offer the entries other campaigns stored since the last pull."""
        if not (self.config.cache.shared and self.cache.enabled):
            return
        self._last_shared_pull = time.monotonic()
        for entry_id, campaign_id, row in self.store.load_shared_cache(
                self.campaign.settings_hash, self.campaign.id, self._shared_after):
            self._shared_after = entry_id
            self.cache.add_foreign(CacheEntry(row.functional_hash, row.candidate_number,
                                              row.objectives, row.error, row.evaluation_count),
                                   campaign_id)

    # -- reporting ------------------------------------------------------------------------
    def _report_progress(self, final: bool = False) -> None:
        """At most ten progress reports a second: the callback redraws a terminal, and the
        dashboard's gauges follow."""
        now = time.monotonic()
        if not final and now - self._last_report < 0.1:
            return
        self._last_report = now
        if self.on_progress is not None:
            self.on_progress(self.progress())
        self._report_metrics(final)

    def _report_metrics(self, final: bool) -> None:
        if self.metrics is None:
            return
        now = time.monotonic()
        hypervolume = None
        if final or now - self._last_hypervolume >= 5.0:
            self._last_hypervolume = now
            hypervolume = self.hypervolume()
        self.metrics.gauges(in_flight=len(self.ledger.in_flight),
                            population=len(self.population), best=self.best,
                            hypervolume=hypervolume)

    @property
    def evaluations(self) -> int:
        return self.ledger.evaluations

    @property
    def best(self) -> dict[str, float]:
        return self.ledger.best

    @property
    def restarts(self) -> int:
        return getattr(self.population, "restarts", 0)

    def progress(self) -> Progress:
        ledger = self.ledger
        return Progress(self.next_number, ledger.evaluations, self.max_evaluations,
                        self.cache.statistics.hit_rate, ledger.failed, dict(ledger.best))

    def front(self) -> list[FrontMember]:
        """The Pareto front of every evaluation so far, best first by the first objective
        (then number), the order of `automl pareto`; each member's payload is its program."""
        first = self.objectives[0]
        return sorted(self.ledger.front.members(),
                      key=lambda m: (first.to_minimization(m.objectives[first.name]), m.number))

    def hypervolume(self) -> float | None:
        return self.ledger.front.hypervolume() if len(self.ledger.front) else None

    def summary(self, seconds: float) -> CampaignSummary:
        statistics, ledger = self.cache.statistics, self.ledger
        return CampaignSummary(
            campaign=self.store.get_campaign(self.campaign.id), candidates=self.next_number,
            evaluations=ledger.evaluations, failed=ledger.failed, duplicates=ledger.duplicates,
            cache_hits=statistics.hits, in_flight_hits=statistics.in_flight_hits,
            cache_hit_rate=statistics.hit_rate, seconds=seconds, stopped=self.stop_requested,
            front=self.front(), hypervolume=self.hypervolume(), restarts=self.restarts)


def failure_reason(error: BaseException) -> str:
    """Why a controller died, in one line for the campaign's `failure`: the database's own
    words for a store error (``database or disk is full``), else the exception."""
    if isinstance(error, StoreError):
        cause = error.__cause__
        text = str(getattr(cause, "orig", None) or cause) if cause is not None else str(error)
    else:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."
