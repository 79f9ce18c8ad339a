"""The closed-form ridge-regression readout of an echo state network (`task.readout=ridge`, Jaeger 2001).

With the recurrent module fixed (an `esn` reservoir), the best linear readout is the ridge solution over the
training set's pooled features X (N, F) and targets Y (N, K), with a bias column that is not penalised::

    [W b] = argmin ‖[X 1] [W b]ᵀ − Y‖² + α ‖W‖²

solved in float64 by least squares on the augmented system [[X 1]; [√α I 0]] [W b]ᵀ = [Y; 0] (which is the
plain least-squares solution for α = 0, rank-deficient X included).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

READOUTS = ("gradient", "ridge")


def check_readout(readout: str, ridge_alpha: float) -> None:
    """ValueError unless `readout` is one of `READOUTS` and `ridge_alpha` a number >= 0."""
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {', '.join(READOUTS)}, got {readout!r}")
    number = isinstance(ridge_alpha, (int, float)) and not isinstance(ridge_alpha, bool)
    if not number or not ridge_alpha >= 0:
        raise ValueError(f"ridge_alpha must be a number >= 0, got {ridge_alpha!r}")


def ridge_solution(features: Tensor, targets: Tensor, alpha: float) -> tuple[Tensor, Tensor]:
    """`features (N, F)`, `targets (N,)` or `(N, K)` -> `(weight (K, F), bias (K,))` in float64."""
    x = features.detach().double().cpu()  # (N, F)
    y = targets.detach().double().cpu().reshape(len(x), -1)  # (N, K)
    design = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], dim=1)  # (N, F+1)
    penalty = torch.cat([torch.eye(x.shape[1], dtype=x.dtype) * alpha ** 0.5,
                         torch.zeros(x.shape[1], 1, dtype=x.dtype)], dim=1)  # (F, F+1)
    a = torch.cat([design, penalty])  # (N+F, F+1)
    b = torch.cat([y, torch.zeros(x.shape[1], y.shape[1], dtype=y.dtype)])  # (N+F, K)
    solution = torch.linalg.lstsq(a, b, driver="gelsd").solution  # (F+1, K)
    return solution[:-1].t(), solution[-1]  # (K, F), (K,)


@torch.no_grad()
def fit_ridge_readout(task, batches, alpha: float) -> None:
    """Set `task.head` (an `nn.Linear`) to the ridge readout of `task.features` over `batches`
    (dicts with `inputs`, `lengths`, `targets`, as the many-to-one datamodules give)."""
    head: nn.Linear = task.head
    features, targets = [], []
    for batch in batches:
        inputs = batch["inputs"].to(task.device)  # (B, T, F)
        features.append(task.features(inputs, batch["lengths"].to(task.device)))  # (B, D*H)
        targets.append(batch["targets"])
    weight, bias = ridge_solution(torch.cat(features), torch.cat(targets), alpha)
    head.weight.copy_(weight.to(head.weight))
    head.bias.copy_(bias.to(head.bias))
