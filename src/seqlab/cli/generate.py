"""`seqlab-generate` (`python generate.py ckpt_path=...`): text sampled from a trained character LM.

    python generate.py ckpt_path=<run>/checkpoints/last.ckpt prompt="ROMEO:" length=500 temperature=0.8

The prompt's characters that the model's vocabulary lacks are read as its unknown token. The text (the
prompt included) goes to stdout; `seed=<int>` makes it reproducible.
"""

from __future__ import annotations

import sys

import hydra
import torch
from omegaconf import DictConfig

from seqlab.cli.checkpoints import load_task
from seqlab.cli.choices import CONFIG_PATH, check_group_choices
from seqlab.cli.config_checks import check_integer_setting
from seqlab.cli.errors import exit_on_error
from seqlab.cli.override_keys import check_override_keys
from seqlab.reliability.stored_values import is_finite_number
from seqlab.reliability.work_bounds import MAX_SAMPLE_LENGTH

PROG = "seqlab-generate"


def pick_device(accelerator: str) -> torch.device:
    """The torch device for a Lightning accelerator name (auto: CUDA when present)."""
    if accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def check_generate_settings(cfg: DictConfig) -> None:
    """`temperature` a finite number >= 0, `length` and `top_k` counts, `seed` an integer (or null)."""
    if not is_finite_number(cfg.temperature) or cfg.temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0 (0: greedy), got {cfg.temperature!r}")
    length = cfg.length
    if isinstance(length, bool) or not isinstance(length, int) or not 0 <= length <= MAX_SAMPLE_LENGTH:
        raise ValueError(f"length must be an integer in [0, {MAX_SAMPLE_LENGTH}] (seqlab's bound on "
                         f"generated characters), got {length!r}")
    check_integer_setting("top_k", cfg.top_k, 1)
    check_integer_setting("seed", cfg.seed, 0)


def generate(cfg: DictConfig) -> str:
    """Sample `cfg.length` characters after `cfg.prompt` from the checkpoint's model."""
    check_generate_settings(cfg)
    device = pick_device(cfg.device.accelerator)
    model, stored = load_task(cfg.ckpt_path, map_location=device)
    if not hasattr(model, "generate"):
        raise ValueError(f"ckpt_path={cfg.ckpt_path}: its task (task={stored['task_name']}) does not "
                         "generate text; train a task=charlm model")
    return model.generate(str(cfg.prompt), cfg.length, cfg.temperature, cfg.top_k, cfg.seed)


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="generate")
@exit_on_error(PROG)
def hydra_main(cfg: DictConfig) -> str:
    text = generate(cfg)
    print(text)
    return text


def main() -> None:
    """Console-script entry point."""
    check_group_choices(sys.argv[1:], PROG)
    check_override_keys(sys.argv[1:], PROG, "generate")
    hydra_main()


if __name__ == "__main__":
    main()
