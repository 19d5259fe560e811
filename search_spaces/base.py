"""Old import path of the space contract, kept so that third-party spaces written against it
still import: the contract lives in `automl.space`, the registry in `automl.plugins`, the
batching helpers in `automl.batching`."""

from automl.batching import ProgramBatching, over_programs, resolve_program_batching
from automl.plugins import UnknownSpaceError, available_spaces, get_space, space_class
from automl.space import (
    BatchEvaluatedSpace,
    Evaluation,
    Objective,
    SearchSpace,
    SpaceSettings,
    best_values,
    checked_evaluation,
)

__all__ = ["BatchEvaluatedSpace", "Evaluation", "Objective", "ProgramBatching", "SearchSpace",
           "SpaceSettings", "UnknownSpaceError", "available_spaces", "best_values",
           "checked_evaluation", "get_space", "over_programs", "resolve_program_batching",
           "space_class"]
