"""Optimizer update rules (Lion): programs `train(w, g, m, v, lr, t) -> (update, m, v)`.

`Task` is what a user's task function returns, named in the settings' task lists by an import
string ``"package.module:make_task"`` beside the built-in names (`tasks.Task`).
"""

from search_spaces.optimizers.space import OptimizersSettings, OptimizersSpace
from search_spaces.optimizers.tasks import Task

__all__ = ["OptimizersSettings", "OptimizersSpace", "Task"]
