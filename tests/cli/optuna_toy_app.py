"""A toy Hydra application for the `seqlab_optuna` sweeper tests: seconds instead of a training run.

The objective is (x - 0.3)^2 + y. A job with x < fail_below fails through seqlab's error handling
(`exit_on_error`: a `FAILED` file, no metric). With a pruning callback (`callbacks.optuna_pruning`, which the
sweeper adds) the job reports the objective after 3 "validations" as a Lightning trainer would, and stops
when the callback says so. `sleep` (seconds) makes a trial last that long, for the tests that kill a worker
mid-trial.

    python optuna_toy_app.py -m hydra/sweeper=seqlab_optuna 'hydra.sweeper.params.x=interval(-1, 1)'
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import hydra
from hydra.core.config_store import ConfigStore
from hydra.utils import instantiate
from omegaconf import DictConfig

from seqlab.cli.errors import exit_on_error

ConfigStore.instance().store(name="toy", node={"x": 0.0, "y": 0.0, "fail_below": -10.0, "sleep": 0.0,
                                                    "callbacks": {}})


@hydra.main(version_base="1.3", config_path=None, config_name="toy")
@exit_on_error("toy")
def main(cfg: DictConfig) -> float:
    value = (cfg.x - 0.3) ** 2 + cfg.y
    time.sleep(cfg.sleep)
    if cfg.x < cfg.fail_below:
        raise ValueError(f"x must be >= {cfg.fail_below}, got {cfg.x}")
    pruning = cfg.callbacks.get("optuna_pruning")
    if pruning is not None:
        callback = instantiate(pruning)
        trainer = SimpleNamespace(sanity_checking=False, is_global_zero=True, should_stop=False,
                                  callback_metrics={"val/loss": value},
                                  strategy=SimpleNamespace(broadcast=lambda obj, src=0: obj))
        for step in (1, 2, 3):
            trainer.global_step = step
            callback.on_validation_end(trainer, None)
            if trainer.should_stop:
                break
    return value


if __name__ == "__main__":
    main()
