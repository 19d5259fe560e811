"""Evolution: populations and selection strategies (registered as plug-ins under
``automl.strategies``), the Pareto front and utilities, and generic IR mutations. The restart
wrapper, `automl.evolution.restarts`, builds configured strategies through the plug-in registry
and is imported from there (not here: the registry sits below the space contract, which imports
this package)."""

from automl.evolution.front import Front, FrontMember
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
    Member,
    ParetoTournament,
    PopulationState,
    RegularizedEvolution,
    SelectionStrategy,
)

__all__ = [
    "MUTATION_KINDS", "NSGA2", "Front", "FrontMember", "Member", "MutationFailed",
    "MutationSettings", "ParetoTournament", "PopulationState", "RegularizedEvolution",
    "SelectionStrategy",
    "crowding_distance", "dominates", "hypervolume", "mutate", "non_dominated_mask",
    "non_dominated_sort", "pareto_front",
]
