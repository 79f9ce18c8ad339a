"""Stacking: the layers of a seqlab module run one after the other, each direction by `run_one`.

Between layers: dropout (torch's, a fresh mask per element, or `dropout_mode="variational"`: one mask per
sequence), residual connections (`residual=True`), the diagnostics' output recorder and ELMo's layer mix.
Inside each direction: the `StepRegulariser` of `seqlab.nn.regularisation` and, when `return_all_states`,
every step's state. States travel as one tuple of `(B, n)` tensors per layer and direction (index
`layer * D + direction`); `split_states` / `join_states` convert from and to what `forward` takes and returns.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from seqlab.cells.base import State
from seqlab.nn.regularisation import locked_dropout


def split_states(states, num_directions: int) -> list[State]:
    """Stacked states `((L*D, B, n), ...)` or, per layer, `[((D, B, n_l), ...), ...]` -> one tuple per
    layer and direction."""
    if isinstance(states, list):
        return [tuple(s[d] for s in layer) for layer in states for d in range(num_directions)]
    return [tuple(s[i] for s in states) for i in range(states[0].shape[0])]


def join_states(per_index: list, num_directions: int, per_layer: bool):
    """Inverse of `split_states` for tuples of tensors `(..., n)`, stacking on a new leading dim."""
    def stack(group):
        return tuple(torch.stack(parts) for parts in zip(*group, strict=True))
    if not per_layer:
        return stack(per_index)
    return [stack(per_index[i:i + num_directions]) for i in range(0, len(per_index), num_directions)]


def run_stack(module, cells, x: Tensor, lengths: Tensor | None, initials: list[State], run_one):
    """Run every layer of `module` (a `RecurrentBase`) over `x (T, B, I)` from `initials`.

    Returns `(output (T, B, D*H_out), finals, all_states)`: `finals` one state tuple per layer and direction,
    `all_states` None, or (with `return_all_states`) one tuple of `(T, B, n)` tensors per layer and direction.
    """
    options = module.options
    regularisation = options.regularisation
    training = module.training
    recorder = module.mask_recorder
    finals, all_states, layer_outputs = [], [], []
    layer_input = x  # (T, B, I)
    if training and regularisation.input_dropout:
        layer_input = locked_dropout(layer_input, regularisation.input_dropout, recorder)  # (T, B, I)
    for layer, layer_cells in enumerate(cells):
        outputs = []
        for direction, cell in enumerate(layer_cells):
            extra = {}
            regulariser = regularisation.step_regulariser(cell, training, recorder)
            if regulariser is not None:
                extra["regulariser"] = regulariser
            if options.return_all_states:
                extra["all_states"] = steps = []
            output, final = run_one(cell, layer_input, initials[layer * module.num_directions + direction],
                                    lengths, module.dilations[layer], reverse=direction == 1, **extra)
            outputs.append(output)  # (T, B, H_out)
            finals.append(tuple(final))
            if options.return_all_states:
                all_states.append(tuple(steps))
        layer_output = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)  # (T, B, D*H_out)
        if options.residual and layer > 0:
            layer_output = layer_output + layer_input  # (T, B, D*H_out)
        if module.output_recorder is not None:
            recorded = layer_output.transpose(0, 1)  # (B, T, D*H_out)
            module.output_recorder.append(recorded)
            layer_output = recorded.transpose(0, 1)  # (T, B, D*H_out), downstream of the recorded tensor
        layer_outputs.append(layer_output)
        if module.dropout and training and layer < module.num_layers - 1:
            if regularisation.dropout_mode == "variational":
                layer_output = locked_dropout(layer_output, module.dropout, recorder)
            else:
                layer_output = F.dropout(layer_output, module.dropout, training=True)
        layer_input = layer_output
    output = layer_input if module.layer_mix is None else module.layer_mix(layer_outputs)  # (T, B, D*H_out)
    return output, finals, (all_states if options.return_all_states else None)
