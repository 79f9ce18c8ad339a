"""`seqlab-train` (`python train.py`): train a task with a recurrent model, configured by Hydra.

    python train.py cell=gru task=charlm cell.hidden_size=512 trainer.max_epochs=20
    python train.py -m cell=lstm,gru                     # a sweep, one run folder per job
    python train.py hparams_search=charlm_optuna         # an Optuna search over val/loss
    python train.py hydra.run.dir=<run folder> ckpt_path=last   # resume that run from its last.ckpt

One output folder per run holds the resolved `config.yaml`, `checkpoints/` (best by val/loss, and last),
`tensorboard/` events and Hydra's `.hydra/` record. When fit ends, the best checkpoint is evaluated on the
test split (`test=true`; `seqlab.cli.final_test`) and the summary says why fit stopped and the test metrics.
The command returns the best `optimized_metric` (val/loss), which is what Hydra's Optuna sweeper minimises.

A run folder is never lost or falsified (`seqlab.cli.run_folder`, `seqlab.cli.resume_checks`): the config
is checked (`seqlab.cli.config_checks`) and everything is built before `config.yaml` is written; the folder is
locked while training; an in-place resume (`hydra.run.dir=<run> ckpt_path=last`) runs the run's own stored
overrides, and a resume whose cell or task settings differ from the checkpoint's is refused in one line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
import lightning as L
from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf

from seqlab.cli.checkpoints import StoreConfig, read_checkpoint, registry_keys, resolve_ckpt_path
from seqlab.cli.choices import CONFIG_PATH, check_group_choices
from seqlab.cli.components import (
    apply_device_settings,
    make_callbacks,
    make_datamodule,
    make_task,
    make_trainer,
    plain,
)
from seqlab.cli.config_checks import check_train_config
from seqlab.cli.errors import exit_on_error
from seqlab.cli.final_test import run_final_test
from seqlab.cli.launch_rank import follower_argv, is_global_zero
from seqlab.cli.override_keys import check_override_keys
from seqlab.cli.resolvers import register_resolvers
from seqlab.cli.resume_checks import check_resume
from seqlab.cli.run_folder import WRITE_HYDRA_RECORD, RunFolder, fail, prepare_argv
from seqlab.cli.stop_reason import stop_reason
from seqlab.cli.summary import best_metric, hparams_of, log_final_hparams, print_summary
from seqlab.cli.sweep_failures import in_multirun_job
from seqlab.cli.sweep_names import note_command_line
from seqlab.reliability.graceful_stop import GracefulStop
from seqlab.reliability.trusted_restore import TrustedRestore

PROG = "seqlab-train"


def train(cfg: DictConfig) -> float | None:
    """Fit the configured task; return the best value of `cfg.optimized_metric`.

    Everything is checked and built before the run folder is written (`RunFolder.record`), so a command
    that fails before training starts leaves an existing run exactly as it was."""
    output_dir = Path(cfg.paths.output_dir)
    choices = HydraConfig.get().runtime.choices if HydraConfig.initialized() else {}
    choices = {k: v for k, v in choices.items() if not k.startswith("hydra")}
    with RunFolder(output_dir, resuming=cfg.get("ckpt_path") is not None, lock=is_global_zero(),
                   keep_on_failure=in_multirun_job()) as run:
        check_train_config(cfg, choices)
        ckpt_path = resolve_ckpt_path(cfg.get("ckpt_path"), cfg.paths.ckpt_dir)
        run.claim_checkpoints(cfg.paths.ckpt_dir, ckpt_path)
        if cfg.get("seed") is not None:
            L.seed_everything(cfg.seed, workers=True, verbose=False)
        apply_device_settings(cfg)
        datamodule = make_datamodule(cfg.dataset)
        model = make_task(cfg, datamodule)
        if ckpt_path is not None:
            check_resume(cfg, model, read_checkpoint(ckpt_path), ckpt_path)

        resolved = plain(cfg)
        callbacks = make_callbacks(cfg.get("callbacks"), with_logger=bool(cfg.get("logger")))
        keys = registry_keys(resolved, choices)
        trainer = make_trainer(cfg, [*callbacks, TrustedRestore(), StoreConfig(resolved, keys), run.marker])
        if trainer.is_global_zero:
            run.record(resolved, hydra_record(cfg))
        try:
            trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
        except SIGTERMException:
            exit_stopped(trainer)
            raise

    metric = cfg.get("optimized_metric") or "val/loss"
    best = best_metric(trainer, metric)
    fit_metrics, stopped = dict(trainer.callback_metrics), ("stopped", stop_reason(trainer))
    tested = run_final_test(cfg, trainer, model, datamodule)  # test=true: best checkpoint on the test split
    log_final_hparams(trainer, hparams_of(cfg, choices), best, {**fit_metrics, **tested.metrics})
    if trainer.is_global_zero:  # under DDP every rank gets here; one summary
        print_summary(trainer, metric, best, output_dir, [stopped, *tested.rows])
    return best


def hydra_record(cfg: DictConfig) -> dict | None:
    """Hydra's `.hydra/` files (config, hydra, overrides), when `prepare_argv` told Hydra not to write them
    at start-up (a command in an existing run folder: written only once training starts)."""
    if not WRITE_HYDRA_RECORD["enabled"] or not HydraConfig.initialized():
        return None
    hydra_cfg = HydraConfig.get()
    return {"config": OmegaConf.to_container(cfg), "hydra": {"hydra": OmegaConf.to_container(hydra_cfg)},
            "overrides": list(hydra_cfg.overrides.task)}


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
    note_command_line(sys.argv[1:])  # the overrides every sweep job shares, left out of its folder name
    try:
        if is_global_zero():
            prepared = prepare_argv(sys.argv[1:])
            if prepared not in (sys.argv[1:], [*sys.argv[1:], "hydra.output_subdir=null"]):
                check_group_choices(prepared, PROG)  # stored overrides are checked as a new command line
                check_override_keys(prepared, PROG, "train")
        else:  # DDP's other ranks run this command in the folder rank 0 prepared
            prepared = follower_argv(sys.argv[1:])
    except ValueError as error:
        fail(PROG, str(error))
    sys.argv[1:] = prepared
    hydra_main()


if __name__ == "__main__":
    main()
