"""dataset=mackey_glass: the integration against plain-Python references, the windows, the splits."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir

from seqlab.cli.choices import CONFIG_DIR
from seqlab.cli.components import make_datamodule, make_task
from seqlab.data.mackey_glass import MackeyGlassDataModule, integrate_mackey_glass, mackey_glass_series


def reference_rk4(seed: int, units: int, substeps: int = 10, tau: int = 17) -> list[float]:
    """The same scheme written out on its own: x(t) on a grid, the delayed value at t + dt/2 interpolated."""
    dt = 1.0 / substeps
    delay = tau * substeps
    rng = np.random.default_rng(seed)
    grid = {i - delay: float(v) for i, v in enumerate(rng.uniform(1.1, 1.3, size=delay + 1))}  # i: t = i dt

    def f(x: float, x_tau: float) -> float:
        return 0.2 * x_tau / (1 + x_tau ** 10) - 0.1 * x

    for i in range(units * substeps):
        x, lag, lag_next = grid[i], grid[i - delay], grid[i - delay + 1]
        k1 = f(x, lag)
        k2 = f(x + dt * k1 / 2, (lag + lag_next) / 2)
        k3 = f(x + dt * k2 / 2, (lag + lag_next) / 2)
        k4 = f(x + dt * k3, lag_next)
        grid[i + 1] = x + dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    return [grid[unit * substeps] for unit in range(units)]


def reference_euler(x0: float, units: int, substeps: int) -> list[float]:
    """Forward Euler with a tiny step from a constant history: checks the equation, not the scheme."""
    dt, delay = 1.0 / substeps, 17 * substeps
    x = [x0] * (delay + 1)
    for _ in range(units * substeps):
        x.append(x[-1] + dt * (0.2 * x[-1 - delay] / (1 + x[-1 - delay] ** 10) - 0.1 * x[-1]))
    return x[delay::substeps][:units]


def test_series_is_the_rk4_reference_for_the_first_hundreds_of_steps():
    series = mackey_glass_series(300, transient=0, seed=4)
    np.testing.assert_allclose(series, reference_rk4(seed=4, units=300), rtol=0, atol=1e-12)


def test_integration_solves_the_equation_like_a_fine_euler_reference():
    rk4 = integrate_mackey_glass([1.2] * 171, 3000, 0.1)[170::10]  # dt = 0.1, constant history 1.2
    euler = reference_euler(1.2, 300, substeps=1000)  # dt = 0.001: first order, error ~1e-3 over 300 units
    np.testing.assert_allclose(rk4[:300], euler, rtol=0, atol=2e-3)


def test_series_stays_in_the_known_range_and_is_not_settling():
    for seed in (0, 1):
        series = mackey_glass_series(2000, seed=seed)
        assert 0.2 < series.min() < 0.6 and 1.2 < series.max() < 1.4
        assert series[-500:].std() > 0.15  # still chaotic at the end, not a fixed point or decaying


def test_same_seed_same_series_other_seed_other_series():
    first, again = MackeyGlassDataModule(num_train=20, num_val=5, num_test=5), MackeyGlassDataModule(
        num_train=20, num_val=5, num_test=5)
    first.setup("fit")
    again.setup("fit")
    assert np.array_equal(first.series, again.series)
    other = MackeyGlassDataModule(num_train=20, num_val=5, num_test=5, seed=1)
    other.setup("fit")
    assert not np.allclose(first.series, other.series, atol=1e-3)


@pytest.mark.parametrize(("length", "horizon", "stride"), [(50, 1, 1), (7, 84, 3)])
def test_windows_and_targets_are_aligned_and_splits_do_not_overlap(length, horizon, stride):
    datamodule = MackeyGlassDataModule(length=length, horizon=horizon, num_train=30, num_val=10, num_test=12,
                                       stride=stride, batch_size=8)
    datamodule.setup("fit")
    series = torch.from_numpy(datamodule.series).float()  # (L,)
    reached = {}
    for split, count in (("train", 30), ("val", 10), ("test", 12)):
        examples = datamodule.splits[split]
        assert len(examples) == count
        used = set()
        for example, start in zip(examples, datamodule.window_starts(split), strict=True):
            end = start + length - 1  # the window's last sample
            assert torch.equal(example["inputs"], series[start: end + 1].unsqueeze(-1))
            assert example["targets"] == series[end + horizon]
            used.update(range(start, end + horizon + 1))
        reached[split] = used
    assert max(reached["train"]) < min(reached["val"]) and max(reached["val"]) < min(reached["test"])
    assert max(reached["test"]) == len(series) - 1
    batch = next(iter(datamodule.val_dataloader()))
    assert batch["inputs"].shape == (8, length, 1) and batch["targets"].shape == (8,)
    assert datamodule.model_kwargs() == {"input_size": 1, "output_size": 1}


def test_normalize_standardises_by_the_training_stretch():
    raw = MackeyGlassDataModule(num_train=100, num_val=20, num_test=20, normalize=False)
    scaled = MackeyGlassDataModule(num_train=100, num_val=20, num_test=20)
    raw.setup("fit")
    scaled.setup("fit")
    train = raw.series[: raw.span("train")]
    np.testing.assert_allclose(scaled.series, (raw.series - train.mean()) / train.std(), atol=1e-12)
    assert (scaled.mean, scaled.std) == pytest.approx((train.mean(), train.std()))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"horizon": 0}, "horizon must be a positive integer, got 0"),
    ({"length": 2.5}, "length must be a positive integer, got 2.5"),
    ({"tau": 17.05}, r"tau \* substeps must be a whole number >= 1 .*got tau=17.05, substeps=10"),
    ({"gamma": -0.1}, "gamma must be a number > 0, got -0.1"),
    ({"normalize": "yes"}, "normalize must be true or false, got 'yes'"),
    ({"seed": -1}, "seed must be a non-negative integer, got -1"),
])
def test_bad_settings_say_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MackeyGlassDataModule(**kwargs)


def test_an_esn_with_a_ridge_readout_forecasts_far_better_than_persistence():
    overrides = ["task=regress", "dataset=mackey_glass", "cell=esn", "cell.hidden_size=100",
                 "task.readout=ridge", "dataset.length=30", "dataset.num_train=300", "dataset.num_val=100",
                 "dataset.num_test=100"]
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    L.seed_everything(0, verbose=False)
    datamodule = make_datamodule(cfg.dataset)
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.fit(make_task(cfg, datamodule), datamodule)
    val = datamodule.splits["val"]
    persistence = torch.stack([(e["targets"] - e["inputs"][-1, 0]) ** 2 for e in val]).mean()  # next = last
    assert float(trainer.callback_metrics["val/mse"]) < persistence / 100  # measured: ~1/5000
