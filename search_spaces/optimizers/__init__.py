"""Optimizer update rules (Lion): programs `train(w, g, m, v, lr, t) -> (update, m, v)`."""

from search_spaces.optimizers.space import OptimizersSettings, OptimizersSpace

__all__ = ["OptimizersSettings", "OptimizersSpace"]
