"""TorchScript for seqlab cells: `torch.jit.script(cell)` compiles torch's own cell with the same weights.

seqlab's cells are Python (keyword-only options, properties, `State` tuples) that TorchScript cannot compile.
Where a cell computes exactly what a torch cell computes (`LSTMCell` without variants or projection,
`GRUCell` in torch's form, `ElmanCell` with tanh or relu), its `__prepare_scriptable__` hands
`torch.jit.script` a `torch.nn.LSTMCell` / `GRUCell` / `RNNCell` holding the very same Parameters (training
the scripted module trains the seqlab cell; a weight that is not a Parameter, e.g. a parametrization's
output, is copied as it is now). For any other cell it raises `NotScriptableError` saying so, and pointing at
`torch.export` / `torch.compile`, which run every seqlab cell and layer.
"""

from __future__ import annotations

from torch import nn


class NotScriptableError(RuntimeError):
    """The module's configuration is one TorchScript cannot compile (use torch.export or torch.compile)."""


def not_scriptable(what: str, why: str) -> NotScriptableError:
    return NotScriptableError(f"torch.jit.script cannot compile {what} ({why}: torch computes no such "
                              "module); use torch.export.export or torch.compile, which run it")


def share_weights(source: nn.Module, target: nn.Module, names) -> nn.Module:
    """Put `source`'s tensors `names` on `target` under the same names: Parameters shared, others copied."""
    for name in names:
        value = getattr(source, name)
        if value is None:
            continue
        shared = value if isinstance(value, nn.Parameter) else nn.Parameter(value.detach().clone())
        setattr(target, name, shared)
    return target


def torch_cell_for(cell) -> nn.Module | None:
    """torch's cell computing what `cell` computes, sharing its weights, or None where there is none."""
    from seqlab.cells.elman import ElmanCell
    from seqlab.cells.gru import GRUCell
    from seqlab.cells.lstm import LSTMCell

    weight = cell.weight_ih
    factory = {"device": weight.device, "dtype": weight.dtype}
    if isinstance(cell, LSTMCell) and not cell.is_variant and not cell.proj_size:
        target = nn.LSTMCell(cell.input_size, cell.hidden_size, cell.bias, **factory)
    elif type(cell) is GRUCell and cell.reset_after:
        target = nn.GRUCell(cell.input_size, cell.hidden_size, cell.bias, **factory)
    elif (type(cell) is ElmanCell and cell.nonlinearity in ("tanh", "relu") and not cell.identity_skip):
        target = nn.RNNCell(cell.input_size, cell.hidden_size, cell.bias, cell.nonlinearity, **factory)
    else:
        return None
    return share_weights(cell, target, ("weight_ih", "weight_hh", "bias_ih", "bias_hh")).train(cell.training)


def scriptable_cell(cell) -> nn.Module:
    """What `torch.jit.script(cell)` compiles (the hook `RecurrentCell.__prepare_scriptable__` calls)."""
    target = torch_cell_for(cell)
    if target is None:
        raise not_scriptable(f"seqlab's {type(cell).__name__}", f"configuration {cell.extra_repr()}")
    return target
