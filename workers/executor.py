"""Old import path of the executor interface, which now lives in the core (`automl.executor`)."""

from automl.executor import (
    EvaluationResult,
    EvaluationTask,
    Executor,
    LocalExecutor,
    evaluate_batch,
    make_executor,
)

__all__ = ["EvaluationResult", "EvaluationTask", "Executor", "LocalExecutor", "evaluate_batch",
           "make_executor"]
