"""`seqlab-eval` (`python eval.py ckpt_path=...`): a trained model's metrics on the test (or val) split.

    python eval.py ckpt_path=outputs/charlm/runs/<date>_<time>/checkpoints/last.ckpt [split=val]
    python eval.py ckpt_path=... +dataset.path=/data/input.txt      # change a stored dataset setting
    python eval.py ckpt_path=... +task.beam_width=5                 # change a task's decoding setting

The task and the dataset are rebuilt from the configuration stored in the checkpoint; `dataset` entries
given here replace the stored ones. Prints the metrics (Lightning's table) and returns them as a dict.
"""

from __future__ import annotations

import sys

import hydra
import lightning as L
from omegaconf import DictConfig, OmegaConf

from seqlab.cli.checkpoints import load_task
from seqlab.cli.choices import CONFIG_PATH, check_group_choices
from seqlab.cli.components import apply_device_settings, make_datamodule
from seqlab.cli.errors import exit_on_error
from seqlab.cli.override_keys import check_override_keys

PROG = "seqlab-eval"
SPLITS = ("test", "val")


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Test (or validate) the checkpoint's model on its dataset; return the metrics."""
    if cfg.split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {cfg.split!r}")
    apply_device_settings(cfg)
    model, stored = load_task(cfg.ckpt_path)
    change_settings(model, cfg.get("task") or {})
    dataset_cfg = OmegaConf.merge(stored["dataset"], cfg.get("dataset") or {})
    datamodule = make_datamodule(dataset_cfg, stage="test" if cfg.split == "test" else "validate")
    trainer = L.Trainer(accelerator=cfg.device.accelerator, devices=1, precision=cfg.device.precision,
                        logger=False, enable_checkpointing=False)
    run = trainer.test if cfg.split == "test" else trainer.validate
    (metrics,) = run(model, datamodule=datamodule)
    return {name: float(value) for name, value in metrics.items()}


def change_settings(model: L.LightningModule, settings) -> None:
    """Set each `name: value` on the loaded task: a hyperparameter it reads when it runs (charlm's sample
    length) and/or a plain attribute (seq2seq's `beam_width`, `max_length`, `length_penalty`)."""
    for name, value in settings.items():
        attribute = hasattr(model, name) and not callable(getattr(model, name))
        if name not in model.hparams and not attribute:
            raise ValueError(f"task.{name}: {type(model).__name__} has no such setting to change "
                             "at evaluation")
        if name in model.hparams:
            model.hparams[name] = value
        if attribute:
            setattr(model, name, value)


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="eval")
@exit_on_error(PROG)
def hydra_main(cfg: DictConfig) -> dict[str, float]:
    return evaluate(cfg)


def main() -> None:
    """Console-script entry point."""
    check_group_choices(sys.argv[1:], PROG)
    check_override_keys(sys.argv[1:], PROG, "eval")
    hydra_main()


if __name__ == "__main__":
    main()
