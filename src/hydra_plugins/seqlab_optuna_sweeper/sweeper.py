"""The `seqlab_optuna` Hydra sweeper (`hydra/sweeper=seqlab_optuna`); the work is done in `_impl.py`.

Hydra imports every public module of `hydra_plugins` when any Hydra application starts; this one stays light
and imports Optuna and seqlab only when the sweeper is used.
"""

from __future__ import annotations

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class SeqlabOptunaSweeper(Sweeper):
    """Hyper-parameter search with Optuna's ask-and-tell API over Hydra's launcher."""

    def __init__(self, **config: Any) -> None:
        from hydra_plugins.seqlab_optuna_sweeper._impl import SeqlabOptunaSweeperImpl

        self.sweeper = SeqlabOptunaSweeperImpl(**config)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.sweeper.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        return self.sweeper.sweep(arguments)
