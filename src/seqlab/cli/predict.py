"""`seqlab-predict ckpt_path=... predict_path=<file>` (or `python eval.py ... predict_path=<file>`): one
prediction per input sequence of a file, written to a CSV or TSV file.

    seqlab-predict ckpt_path=<run>/checkpoints/last.ckpt predict_path=new.npz output_path=predictions.csv

The file has the training data's format (labels or targets, where present, are ignored). The dataset is
rebuilt from the configuration stored in the checkpoint, reading the training files again for its
vocabularies and feature statistics. Each row is the sequence's id (or its text) and the prediction: the
class name (classify), the values (regress, space-separated), the output sequence (seq2seq), the tag of
each token (tag, space-separated), the generated values (generate: one seed value per line) or the
continuation of each prompt line (charlm, `sample_length` characters). `output_path` defaults to
`<predict_path>.predictions.tsv`; a `.csv` suffix writes commas. An existing output file is refused unless
`overwrite=true`, the checkpoint or the input file never (`seqlab.cli.output_file`); the file is written
through a temporary file and a rename, so an old one is never left truncated.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

import hydra
import lightning as L
from omegaconf import DictConfig
from torch.utils.data import DataLoader

from seqlab.cli.checkpoints import load_task
from seqlab.cli.choices import CONFIG_PATH, check_group_choices
from seqlab.cli.components import apply_device_settings
from seqlab.cli.errors import exit_on_error
from seqlab.cli.output_file import check_output_path, write_text_atomically
from seqlab.cli.override_keys import check_override_keys

PROG = "seqlab-predict"
PREDICTING = "classify, regress, tag, seq2seq, generate and charlm"


def as_text(prediction: Any, datamodule: L.LightningDataModule) -> str:
    """One prediction as a cell: a name, space-separated values or tags, or a decoded id sequence."""
    if isinstance(prediction, str):
        return prediction
    if prediction and all(isinstance(p, int) for p in prediction) and hasattr(datamodule, "decode"):
        return datamodule.decode(prediction)
    return " ".join(f"{p:.6g}" if isinstance(p, float) else str(p) for p in prediction)


def output_file(predict_path: str, output_path: str | None) -> Path:
    return Path(output_path) if output_path else Path(f"{predict_path}.predictions.tsv")


def predict(cfg: DictConfig) -> Path:
    """Write the checkpoint's predictions for each sequence of `cfg.predict_path`; return the file written."""
    if not cfg.get("predict_path"):
        raise ValueError("predict_path is required: give the file to predict, e.g. predict_path=new.npz")
    target = output_file(str(cfg.predict_path), cfg.get("output_path"))
    check_output_path(target, bool(cfg.get("overwrite")),
                      {"checkpoint": cfg.ckpt_path, "file to predict": cfg.predict_path})
    apply_device_settings(cfg)
    model, stored = load_task(cfg.ckpt_path)
    from seqlab.cli.eval import make_stored_datamodule  # here: eval.py calls predict for predict_path=

    datamodule = make_stored_datamodule(stored, cfg.get("dataset") or {}, stage="fit")
    predicts = type(model).predict_step is not L.LightningModule.predict_step
    if not hasattr(datamodule, "predict_examples") or not predicts:
        raise ValueError(f"ckpt_path={cfg.ckpt_path}: its dataset ({type(datamodule).__name__}) or task "
                         f"({type(model).__name__}) makes no predictions from files; predictions are for "
                         f"{PREDICTING} on the datasets that read such a file (docs/data.md)")
    names, examples = datamodule.predict_examples(cfg.predict_path)
    batch_size = getattr(datamodule, "batch_size", None) or datamodule.hparams.get("batch_size", 1)
    loader = DataLoader(examples, batch_size=batch_size, collate_fn=getattr(datamodule, "collate_fn", None))
    trainer = L.Trainer(accelerator=cfg.device.accelerator, devices=1, precision=cfg.device.precision,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    predictions = [p for batch in trainer.predict(model, dataloaders=loader) for p in batch]
    text = io.StringIO()
    writer = csv.writer(text, delimiter="," if target.suffix.lower() == ".csv" else "\t")
    writer.writerow(["id", "prediction"])
    writer.writerows([name, as_text(p, datamodule)] for name, p in zip(names, predictions, strict=True))
    write_text_atomically(target, text.getvalue())
    return target


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="predict")
@exit_on_error(PROG)
def hydra_main(cfg: DictConfig) -> Path:
    target = predict(cfg)
    print(f"{PROG}: wrote {target}")
    return target


def main() -> None:
    """Console-script entry point."""
    check_group_choices(sys.argv[1:], PROG)
    check_override_keys(sys.argv[1:], PROG, "predict")
    hydra_main()


if __name__ == "__main__":
    main()
