"""Input-noise augmentation: fresh Gaussian noise of the given std on training inputs only."""

from __future__ import annotations

import pytest
import torch

from seqlab.data.input_noise import InputNoise
from seqlab.data.uea import UEADataModule

CASES = ["1.0,2.0,3.0:4.0,5.0,6.0:b", "7.5,8.5:9.5,10.5:a", "0.5,1.5:2.5,3.5:a", "2.0,1.0,0.0:1.0,1.0,1.0:b"]


def test_noise_has_the_given_std_and_is_drawn_anew(seed):
    inputs = torch.arange(6.0).reshape(3, 2)  # (T, C)
    noisy = InputNoise([{"inputs": inputs, "targets": torch.tensor(1)}], std=0.5)
    draws = torch.stack([noisy[0]["inputs"] for _ in range(4000)])  # (N, T, C)
    noise = draws - inputs  # (N, T, C)
    assert noise.mean().item() == pytest.approx(0.0, abs=0.02)
    assert noise.std().item() == pytest.approx(0.5, rel=0.03)
    assert not torch.equal(draws[0], draws[1])
    assert noisy[0]["targets"] == 1 and len(noisy) == 1
    with pytest.raises(ValueError, match="std must be a non-negative number, got -0.1"):
        InputNoise([], std=-0.1)


def test_japanese_vowels_adds_noise_to_the_training_split_only(tmp_path, seed):
    header = "@problemName Tiny\n@classLabel true a b\n@data\n"
    for split in ("TRAIN", "TEST"):
        (tmp_path / f"JapaneseVowels_{split}.ts").write_text(header + "\n".join(CASES) + "\n")
    datamodule = UEADataModule(name="JapaneseVowels", path=str(tmp_path), val_fraction=0.25, input_noise=0.3)
    datamodule.setup("fit")
    train, val = datamodule.split_dataset("train"), datamodule.split_dataset("val")
    assert not torch.equal(train[0]["inputs"], datamodule.splits["train"][0]["inputs"])
    assert val is datamodule.splits["val"]
    with pytest.raises(ValueError, match="std must be a non-negative number"):
        UEADataModule(name="JapaneseVowels", path=str(tmp_path), input_noise=-1.0)
