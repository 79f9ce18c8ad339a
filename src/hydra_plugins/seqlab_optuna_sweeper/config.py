"""The config of the `seqlab_optuna` sweeper, in Hydra's ConfigStore as `hydra/sweeper=seqlab_optuna`.

    hydra:
      sweeper:
        direction: minimize          # or maximize
        n_trials: 20                 # trials this process runs (several processes may share one study)
        n_jobs: 1                    # trials launched at once (a batch); the launcher decides where they run
        storage: null                # null: in memory; sqlite:///path.db, journal:///path.log or postgresql://...
        heartbeat_interval: 60       # database servers: seconds between the heartbeats of a running trial
        grace_period: null           # seconds with no heartbeat before a trial is dead (2 x interval)
        study_name: seqlab
        sampler: {name: tpe, seed: null, n_startup_trials: 10}        # tpe | random; other keys: kwargs
        pruner: {name: null}         # null | median | successive_halving; other keys: the pruner's kwargs
        monitor: val/loss            # what the pruning callback reports after each validation
        params: {task.lr: "tag(log, interval(1e-4, 1e-2))", cell.hidden_size: "choice(64, 128)"}
"""


from dataclasses import dataclass, field
from typing import Any, Dict, Optional  # noqa: UP035 (OmegaConf's structured configs need typing's forms)

from hydra.core.config_store import ConfigStore


@dataclass
class SeqlabOptunaSweeperConf:
    _target_: str = "hydra_plugins.seqlab_optuna_sweeper.sweeper.SeqlabOptunaSweeper"
    direction: str = "minimize"
    n_trials: int = 20
    n_jobs: int = 1
    storage: Optional[str] = None  # noqa: UP045
    study_name: str = "seqlab"
    sampler: Dict[str, Any] = field(default_factory=lambda: {"name": "tpe", "seed": None})  # noqa: UP006
    pruner: Dict[str, Any] = field(default_factory=lambda: {"name": None})  # noqa: UP006
    monitor: str = "val/loss"
    params: Optional[Dict[str, str]] = None  # noqa: UP006, UP045
    heartbeat_interval: Optional[int] = 60  # noqa: UP045
    grace_period: Optional[int] = None  # noqa: UP045


ConfigStore.instance().store(group="hydra/sweeper", name="seqlab_optuna", node=SeqlabOptunaSweeperConf,
                             provider="seqlab")
