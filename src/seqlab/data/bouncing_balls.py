"""Bouncing balls: a generated, offline video dataset for next-frame prediction (`dataset=bouncing_balls`).

Each sequence shows `num_balls` balls of radius `radius` moving at `speed` pixels per step in a `size`×`size`
box (on a line of `size` pixels with `dims=1`), bouncing off its walls (each wall reflects the velocity;
balls pass through each other). Frames are one channel with intensities in [0, 1]: a disc with an
anti-aliased one-pixel edge, the brighter ball where two overlap. Start positions and directions are drawn
from a seed, so every run (and split) sees the same videos.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from seqlab.data.checks import check_integer
from seqlab.data.in_memory import Example, InMemoryDataModule
from seqlab.data.seeded_splits import SeededSplits


def make_bouncing_balls(count: int, length: int, size: int, num_balls: int, radius: float, speed: float,
                        seed: int, dims: int = 2) -> Tensor:
    """`count` videos of `length` frames, `(N, T, 1, size, size)` float32 in [0, 1] (`(N, T, 1, size)` for
    `dims=1`: balls moving along a line)."""
    rng = np.random.default_rng(seed)
    low, high = radius, size - 1 - radius  # the box a ball's centre stays in
    position = rng.uniform(low, high, size=(count, num_balls, dims))  # (N, K, dims) as (row, column)
    angle = rng.uniform(0.0, 2 * np.pi, size=(count, num_balls))  # (N, K)
    if dims == 2:
        velocity = speed * np.stack([np.sin(angle), np.cos(angle)], axis=-1)  # (N, K, 2)
    else:
        velocity = speed * np.where(angle < np.pi, 1.0, -1.0)[..., None]  # (N, K, 1)
    grid = np.arange(size, dtype=np.float64)
    frames = np.empty((count, length, *(size,) * dims), dtype=np.float32)
    for t in range(length):
        if dims == 2:
            rows = grid[None, None, :, None] - position[..., 0, None, None]  # (N, K, S, 1)
            cols = grid[None, None, None, :] - position[..., 1, None, None]  # (N, K, 1, S)
            distance = np.sqrt(rows ** 2 + cols ** 2)  # (N, K, S, S)
        else:
            distance = np.abs(grid[None, None, :] - position[..., 0, None])  # (N, K, S)
        frames[:, t] = np.clip(radius + 0.5 - distance, 0.0, 1.0).max(axis=1)  # (N, S[, S])
        position = position + velocity
        for axis in range(dims):  # reflect off the walls
            below, above = position[..., axis] < low, position[..., axis] > high
            position[..., axis] = np.where(below, 2 * low - position[..., axis], position[..., axis])
            position[..., axis] = np.where(above, 2 * high - position[..., axis], position[..., axis])
            velocity[..., axis] = np.where(below | above, -velocity[..., axis], velocity[..., axis])
    return torch.from_numpy(frames).unsqueeze(2)  # (N, T, 1, S[, S])


class BouncingBallsDataModule(InMemoryDataModule):
    """Batches `{"frames": (B, T, 1, size, size)}` (`(B, T, 1, size)` with `dims=1`); the task predicts
    frame t+1 from frames 1..t.

    Args:
        length: T, frames per video (>= 2).
        size: frame height and width in pixels.
        num_balls, radius, speed: the balls (radius and speed in pixels; the box must hold a ball).
        num_train, num_val, num_test: videos per split.
        seed: base seed (see `SeededSplits`).
        dims: 2 (a box, 2-D frames) or 1 (a line, 1-D frames of `size` pixels).
    """

    def __init__(self, length: int = 20, size: int = 16, num_balls: int = 2, radius: float = 2.0,
                 speed: float = 1.0, num_train: int = 2000, num_val: int = 200, num_test: int = 200,
                 seed: int = 0, batch_size: int = 32, num_workers: int = 0, dims: int = 2) -> None:
        super().__init__(batch_size, num_workers, sequence_keys=())
        check_integer("length", length, minimum=2)
        check_integer("size", size)
        check_integer("num_balls", num_balls)
        for name, value in (("radius", radius), ("speed", speed)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a number > 0, got {value!r}")
        if not 2 * radius < size - 1:
            raise ValueError(f"radius must be below (size - 1) / 2 = {(size - 1) / 2} so a ball fits in the "
                             f"box, got radius={radius} with size={size}")
        if dims not in (1, 2) or isinstance(dims, bool):
            raise ValueError(f"dims must be 1 (1-D frames) or 2 (2-D frames), got {dims!r}")
        self.length, self.size, self.num_balls, self.dims = length, size, num_balls, dims
        self.radius, self.speed = float(radius), float(speed)
        self.seeded_splits = SeededSplits(num_train, num_val, num_test, seed)

    def make(self, count: int, seed: int) -> list[Example]:
        videos = make_bouncing_balls(count, self.length, self.size, self.num_balls, self.radius, self.speed,
                                     seed, self.dims)  # (N, T, 1, S[, S])
        return [{"frames": video} for video in videos]

    def build_splits(self) -> dict[str, list[Example]]:
        return self.seeded_splits.build(self.make)

    def model_kwargs(self) -> dict[str, Any]:
        return {"channels": 1, "height": self.size if self.dims == 2 else None, "width": self.size}
