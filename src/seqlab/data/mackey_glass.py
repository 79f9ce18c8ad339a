"""The Mackey–Glass series (Mackey & Glass 1977), the chaotic benchmark of reservoir computing (Jaeger & Haas
2004), cut into windows for forecasting one value ahead (many-to-one regression, `task=regress`).

The delay differential equation (tau = 17, beta = 0.2, gamma = 0.1, n = 10: the chaotic regime)::

    dx/dt = beta x(t - tau) / (1 + x(t - tau)^n) - gamma x(t)

is integrated with the classical Runge-Kutta method at step dt = 1 / `substeps` (tau / dt must be a whole
number of steps; the delayed value at a half step is the mean of its two neighbours) from an initial history
x(t), t in [-tau, 0], drawn uniform in (1.1, 1.3) from `seed`. The first `transient` time units are dropped
and the rest is sampled once per time unit; on the attractor the series stays in about (0.2, 1.4).

Example k of a split is the window `x[s_k : s_k + T]` (inputs `(T, 1)`) with the target
`x[s_k + T - 1 + horizon]`, the value `horizon` steps after the window's last one; windows start every
`stride` samples. The train, val and test splits are consecutive stretches of one series, in that order, and
no window or target of one split reaches into another. With `normalize`, the series is standardised by the
mean and standard deviation of the training stretch, so the MSE is a normalised MSE and its square root the
NRMSE (relative to the training series' standard deviation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from seqlab.data.checks import check_integer
from seqlab.data.in_memory import Example, InMemoryDataModule

SPLITS = ("train", "val", "test")


def check_positive(name: str, value: object) -> None:
    """ValueError unless `value` is a real number > 0 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")


def delay_steps(tau: float, substeps: int) -> int:
    """tau / dt as a whole number of integration steps (dt = 1 / substeps), else ValueError."""
    check_positive("tau", tau)
    check_integer("substeps", substeps)
    steps = round(tau * substeps)
    if steps < 1 or not math.isclose(steps, tau * substeps, rel_tol=0, abs_tol=1e-9):
        raise ValueError(f"tau * substeps must be a whole number >= 1 (tau / dt steps of delay), "
                         f"got tau={tau!r}, substeps={substeps!r}")
    return steps


def integrate_mackey_glass(history: Sequence[float], num_steps: int, dt: float, beta: float = 0.2,
                           gamma: float = 0.1, n: float = 10) -> list[float]:
    """RK4 steps of the Mackey–Glass equation; the delay is `len(history) - 1` steps.

    `history` holds x at t = -tau, -tau + dt, ..., 0. Returns x at t = -tau, ..., num_steps * dt
    (`len(history) + num_steps` floats)."""
    delay = len(history) - 1
    check_integer("len(history) - 1 (the delay in steps)", delay)
    x = [float(value) for value in history]

    def slope(now: float, lagged: float) -> float:
        return beta * lagged / (1.0 + lagged ** n) - gamma * now

    for _ in range(num_steps):
        now = x[-1]
        lag_start, lag_end = x[-1 - delay], x[-delay]  # x(t - tau), x(t - tau + dt)
        lag_mid = 0.5 * (lag_start + lag_end)
        k1 = slope(now, lag_start)
        k2 = slope(now + 0.5 * dt * k1, lag_mid)
        k3 = slope(now + 0.5 * dt * k2, lag_mid)
        k4 = slope(now + dt * k3, lag_end)
        x.append(now + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4))
    return x


def mackey_glass_series(length: int, tau: float = 17.0, beta: float = 0.2, gamma: float = 0.1, n: float = 10,
                        substeps: int = 10, transient: int = 500, seed: int = 0) -> np.ndarray:
    """`length` samples (float64, one per time unit) of the series after `transient` time units."""
    check_integer("length", length)
    check_integer("transient", transient, minimum=0)
    check_integer("seed", seed, minimum=0)
    for name, value in (("beta", beta), ("gamma", gamma), ("n", n)):
        check_positive(name, value)
    delay = delay_steps(tau, substeps)
    history = np.random.default_rng(seed).uniform(1.1, 1.3, size=delay + 1)  # x on [-tau, 0]
    steps = (transient + length - 1) * substeps
    x = integrate_mackey_glass(history.tolist(), steps, 1.0 / substeps, beta, gamma, n)
    start = delay + transient * substeps  # the index of t = transient
    return np.asarray(x[start::substeps], dtype=np.float64)  # (length,)


class MackeyGlassDataModule(InMemoryDataModule):
    """Batches `{"inputs": (B, T, 1), "lengths": (B,), "targets": (B,)}` of Mackey–Glass windows.

    Args:
        length: T, the window's steps.
        horizon: the target is the value this many steps after the window's last one.
        num_train, num_val, num_test: windows per split (consecutive stretches of the series).
        stride: samples between the starts of consecutive windows of a split.
        normalize: standardise the series by the training stretch's mean and standard deviation.
        tau, beta, gamma, n: the equation's constants (see the module docstring).
        substeps: integration steps per time unit (dt = 1 / substeps; tau * substeps must be whole).
        transient: time units integrated and dropped before the first sample.
        seed: draws the initial history, so the same seed gives the same series.
    """

    def __init__(
        self, length: int = 50, horizon: int = 1, num_train: int = 2000, num_val: int = 500,
        num_test: int = 500, stride: int = 1, normalize: bool = True, tau: float = 17.0, beta: float = 0.2,
        gamma: float = 0.1, n: float = 10, substeps: int = 10, transient: int = 500, seed: int = 0,
        batch_size: int = 64, num_workers: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers)
        for name, value in (("length", length), ("horizon", horizon), ("num_train", num_train),
                            ("num_val", num_val), ("num_test", num_test), ("stride", stride)):
            check_integer(name, value)
        if not isinstance(normalize, bool):
            raise ValueError(f"normalize must be true or false, got {normalize!r}")
        self.length, self.horizon, self.stride, self.normalize = length, horizon, stride, normalize
        self.counts = {"train": num_train, "val": num_val, "test": num_test}
        self.equation = {"tau": tau, "beta": beta, "gamma": gamma, "n": n, "substeps": substeps,
                         "transient": transient, "seed": seed}
        mackey_glass_series(1, **{**self.equation, "transient": 0})  # validates the settings at construction
        self.series: np.ndarray | None = None  # the (normalised) series, set by setup
        self.mean, self.std = 0.0, 1.0

    def span(self, split: str) -> int:
        """Samples a split's stretch covers: its windows and their targets."""
        return (self.counts[split] - 1) * self.stride + self.length + self.horizon

    def split_start(self, split: str) -> int:
        """Index in `series` of the split's first sample."""
        return sum(self.span(earlier) for earlier in SPLITS[:SPLITS.index(split)])

    def window_starts(self, split: str) -> list[int]:
        """Index in `series` of each window's first sample."""
        first = self.split_start(split)
        return [first + k * self.stride for k in range(self.counts[split])]

    def build_splits(self) -> dict[str, list[Example]]:
        series = mackey_glass_series(sum(self.span(split) for split in SPLITS), **self.equation)  # (L,)
        if self.normalize:
            train = series[: self.span("train")]
            self.mean, self.std = float(train.mean()), float(train.std())
            series = (series - self.mean) / self.std
        self.series = series
        values = torch.from_numpy(series).float()  # (L,)
        last = self.length - 1
        return {split: [{"inputs": values[s: s + self.length].unsqueeze(-1),  # (T, 1)
                         "targets": values[s + last + self.horizon]}  # ()
                        for s in self.window_starts(split)]
                for split in SPLITS}

    def model_kwargs(self) -> dict[str, Any]:
        return {"input_size": 1, "output_size": 1}
