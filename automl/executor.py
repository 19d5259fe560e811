"""The one interface through which the controller runs evaluations, and its in-process version.

The controller submits batches of `EvaluationTask`s and polls for `EvaluationResult`s; it never
knows whether they ran in its own process or on a Ray actor across the cluster. Executors are
plug-ins (entry-point group ``automl.executors``): ``executor.kind`` in a campaign config names
one, and `make_executor` builds it with its ``from_config``. The local executor is registered
like the Ray one (``workers/``), which the core never imports.
"""

from __future__ import annotations

import os
import socket
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from automl.ir import Program
from automl.plugins import EXECUTORS, get_space
from automl.space import Evaluation, SearchSpace

if TYPE_CHECKING:
    from automl.config import CampaignConfig


@dataclass(frozen=True)
class EvaluationTask:
    candidate_number: int
    program: Program


@dataclass(frozen=True)
class EvaluationResult:
    candidate_number: int
    evaluation: Evaluation
    worker: str


class Executor(ABC):
    """Runs evaluation batches. `capacity` is how many candidates may be in flight at once:
    the controller keeps at most that many outstanding (back-pressure)."""

    capacity: int
    batch_size: int

    @classmethod
    def from_config(cls, config: CampaignConfig, space: SearchSpace) -> Executor:
        """The executor a campaign config asks for (its ``executor`` section), for `space`
        (the controller's instance; an executor in this process may share it). A registered
        executor must define it; one handed to the controller directly need not."""
        raise ValueError(f"executor {cls.__name__} cannot be built from a campaign config: it "
                         f"defines no from_config")

    @abstractmethod
    def submit(self, tasks: Sequence[EvaluationTask]) -> None: ...

    @abstractmethod
    def poll(self, timeout: float | None) -> list[EvaluationResult]:
        """Results finished so far; waits up to `timeout` seconds for at least one when
        work is outstanding."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def evaluate_batch(space: SearchSpace, tasks: Sequence[EvaluationTask], worker: str
                   ) -> list[EvaluationResult]:
    """Worker-side: one call of the space's batch evaluator for a whole batch."""
    evaluations = space.evaluate([task.program for task in tasks])
    return [EvaluationResult(task.candidate_number, evaluation, worker)
            for task, evaluation in zip(tasks, evaluations, strict=True)]


class LocalExecutor(Executor):
    """Evaluates in the controller's process, synchronously, in submission order (exactly
    reproducible: the same seed gives the same candidates)."""

    def __init__(self, space_name: str, space_settings: Mapping[str, Any] | None = None,
                 batch_size: int = 16, space: SearchSpace | None = None):
        self.space = space if space is not None else get_space(space_name, space_settings)
        self.batch_size = batch_size
        self.capacity = batch_size
        self.worker = f"local:{socket.gethostname()}:{os.getpid()}"
        self._done: list[EvaluationResult] = []

    @classmethod
    def from_config(cls, config: CampaignConfig, space: SearchSpace) -> LocalExecutor:
        return cls(config.space.name, config.space.settings, config.executor.batch_size,
                   space=space)

    def submit(self, tasks: Sequence[EvaluationTask]) -> None:
        self._done.extend(evaluate_batch(self.space, tasks, self.worker))

    def poll(self, timeout: float | None) -> list[EvaluationResult]:
        done, self._done = self._done, []
        return done


def make_executor(config: CampaignConfig, space: SearchSpace) -> Executor:
    """The executor ``config.executor.kind`` names (`automl.plugins.EXECUTORS`), once the
    libraries the space's evaluation needs are known to be installed (before any candidate)."""
    space.check_requirements()
    executor = EXECUTORS.load(config.executor.kind).from_config(config, space)
    missing = [name for name in ("capacity", "batch_size") if not hasattr(executor, name)]
    if missing:
        raise ValueError(f"executor {config.executor.kind!r} sets no {' or '.join(missing)} "
                         f"(how many candidates it takes in flight, and per batch)")
    return executor
