"""`seqlab-train` (`python train.py`): train a task with a recurrent model, configured by Hydra.

    python train.py cell=gru task=charlm cell.hidden_size=512 trainer.max_epochs=20
    python train.py -m cell=lstm,gru                     # a sweep, one run folder per job
    python train.py hparams_search=charlm_optuna         # an Optuna search over val/loss
    python train.py hydra.run.dir=<run folder> ckpt_path=last   # resume that run from its last.ckpt

One output folder per run holds the resolved `config.yaml`, `checkpoints/` (best by val/loss, and last),
`tensorboard/` events and Hydra's `.hydra/` record. The command returns the best `optimized_metric`
(val/loss), which is what Hydra's Optuna sweeper minimises.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
import lightning as L
from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.utilities import rank_zero_only
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf

from seqlab.cli.checkpoints import StoreConfig, resolve_ckpt_path
from seqlab.cli.choices import CONFIG_PATH, check_group_choices
from seqlab.cli.components import (
    apply_device_settings,
    make_callbacks,
    make_datamodule,
    make_task,
    make_trainer,
    plain,
)
from seqlab.cli.errors import exit_on_error
from seqlab.cli.override_keys import check_override_keys
from seqlab.cli.resolvers import register_resolvers
from seqlab.cli.summary import best_metric, hparams_of, log_final_hparams, print_summary
from seqlab.reliability.graceful_stop import GracefulStop

PROG = "seqlab-train"


def train(cfg: DictConfig) -> float | None:
    """Fit the configured task; return the best value of `cfg.optimized_metric`."""
    ckpt_path = resolve_ckpt_path(cfg.get("ckpt_path"), cfg.paths.ckpt_dir)
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True, verbose=False)
    apply_device_settings(cfg)
    datamodule = make_datamodule(cfg.dataset)
    model = make_task(cfg, datamodule)

    output_dir = Path(cfg.paths.output_dir)
    resolved = plain(cfg)
    write_config(output_dir, resolved)
    callbacks = make_callbacks(cfg.get("callbacks"), with_logger=bool(cfg.get("logger")))
    trainer = make_trainer(cfg, [*callbacks, StoreConfig(resolved)])
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    except SIGTERMException:
        exit_stopped(trainer)
        raise

    metric = cfg.get("optimized_metric") or "val/loss"
    best = best_metric(trainer, metric)
    choices = HydraConfig.get().runtime.choices if HydraConfig.initialized() else {}
    choices = {k: v for k, v in choices.items() if not k.startswith("hydra")}
    log_final_hparams(trainer, hparams_of(cfg, choices), best)
    if trainer.is_global_zero:  # under DDP every rank gets here; one summary
        print_summary(trainer, metric, best, output_dir)
    return best


@rank_zero_only
def write_config(output_dir: Path, resolved: dict) -> None:
    """The run's resolved config as `<output_dir>/config.yaml` (by rank zero only under DDP)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "config.yaml").write_text(OmegaConf.to_yaml(resolved))


def exit_stopped(trainer: L.Trainer) -> None:
    """After a SIGTERM/SIGINT stop: one line naming the signal and the checkpoint, exit 128 + signal."""
    for stop in trainer.callbacks:
        if isinstance(stop, GracefulStop) and stop.exit_code is not None:
            saved = f"saved {stop.saved_path}" if stop.saved_path else "no checkpoint saved"
            print(f"{PROG}: stopped by {stop.received_signal.name}; {saved} "
                  "(resume with hydra.run.dir=<this run folder> ckpt_path=last)", file=sys.stderr)
            sys.exit(stop.exit_code)


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="train")
@exit_on_error(PROG)
def hydra_main(cfg: DictConfig) -> float | None:
    return train(cfg)


def main() -> None:
    """Console-script entry point."""
    check_group_choices(sys.argv[1:], PROG)
    check_override_keys(sys.argv[1:], PROG, "train")
    register_resolvers()
    hydra_main()


if __name__ == "__main__":
    main()
