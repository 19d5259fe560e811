"""Evolution: populations and selection strategies, Pareto utilities, generic IR mutations."""

from automl.evolution.mutations import MUTATION_KINDS, MutationFailed, MutationSettings, mutate
from automl.evolution.pareto import (
    crowding_distance,
    dominates,
    hypervolume,
    non_dominated_mask,
    non_dominated_sort,
    pareto_front,
)
from automl.evolution.selection import (
    NSGA2,
    STRATEGIES,
    Member,
    ParetoTournament,
    RegularizedEvolution,
    SelectionStrategy,
    make_strategy,
)

__all__ = [
    "MUTATION_KINDS", "NSGA2", "STRATEGIES", "Member", "MutationFailed", "MutationSettings",
    "ParetoTournament", "RegularizedEvolution", "SelectionStrategy", "crowding_distance",
    "dominates", "hypervolume", "make_strategy", "mutate", "non_dominated_mask",
    "non_dominated_sort", "pareto_front",
]
