"""`seqlab-eval` (`python eval.py ckpt_path=...`): a trained model's metrics on the test (or val) split.

    python eval.py ckpt_path=outputs/charlm/runs/<date>_<time>/checkpoints/last.ckpt [split=val]
    python eval.py ckpt_path=... +dataset.path=/data/input.txt      # change a stored dataset setting
    python eval.py ckpt_path=... +task.beam_width=5                 # change a task's decoding setting
    python eval.py ckpt_path=... predict_path=new.csv output_path=out.csv   # predictions (seqlab-predict)

The task and the dataset are rebuilt from the configuration stored in the checkpoint, by seqlab's registry
keys and validated settings (nothing the checkpoint names is imported or instantiated); `dataset` entries
given here replace the stored ones. Prints the metrics (Lightning's table; for a classifier also the confusion
matrix with the class names) and returns them as a dict.
"""

from __future__ import annotations

import sys

import hydra
import lightning as L
from omegaconf import DictConfig, OmegaConf

from seqlab import registry
from seqlab.cli.checkpoints import load_task
from seqlab.cli.choices import CONFIG_PATH, check_group_choices
from seqlab.cli.components import apply_device_settings
from seqlab.cli.config_checks import check_dataset_settings
from seqlab.cli.errors import exit_on_error
from seqlab.cli.override_keys import check_override_keys
from seqlab.tasks.confusion import confusion_table

PROG = "seqlab-eval"
SPLITS = ("test", "val")


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Test (or validate) the checkpoint's model on its dataset; return the metrics."""
    if cfg.get("predict_path"):
        from seqlab.cli.predict import predict  # predict_path=<file>: predictions instead of metrics

        return {"predictions": str(predict(cfg))}
    if cfg.split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {cfg.split!r}")
    apply_device_settings(cfg)
    model, stored = load_task(cfg.ckpt_path)
    change_settings(model, cfg.get("task") or {})
    datamodule = make_stored_datamodule(stored, cfg.get("dataset") or {},
                                        stage="test" if cfg.split == "test" else "validate")
    trainer = L.Trainer(accelerator=cfg.device.accelerator, devices=1, precision=cfg.device.precision,
                        logger=False, enable_checkpointing=False)
    run = trainer.test if cfg.split == "test" else trainer.validate
    (metrics,) = run(model, datamodule=datamodule)
    matrix = getattr(model, "confusion_matrices", {}).get(cfg.split)  # a classifier's (C, C) counts
    if matrix is not None:
        print(confusion_table(matrix, model.hparams.get("class_names")))
    return {name: float(value) for name, value in metrics.items()}


def make_stored_datamodule(stored: dict, changes, stage: str) -> L.LightningDataModule:
    """The checkpoint's dataset, built from seqlab's registry with its validated settings (`changes`, from
    the command line, replace stored ones): never by instantiating what the checkpoint names."""
    if isinstance(changes, DictConfig):
        changes = OmegaConf.to_container(changes, resolve=True)
    for key in changes:
        if str(key).startswith("_"):
            raise ValueError(f"dataset.{key}: not a dataset setting; give settings such as "
                             "+dataset.path=<file>")
    settings = {**stored["dataset"], **changes}
    check_dataset_settings(settings)
    datamodule = registry.dataset_class(stored["dataset_name"])(**settings)
    datamodule.prepare_data()
    datamodule.setup(stage)
    return datamodule


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
