"""torch's own module for a seqlab layer of a torch configuration: TorchScript and dynamic quantisation.

`torch_layer_for(layer)` builds the `torch.nn.LSTM/GRU/RNN` that computes exactly what a `seqlab.nn` layer
computes, holding the very same Parameters (a weight that is not a Parameter, e.g. a parametrization's output,
is copied as it is now), or None where torch computes no such layer (another cell, peepholes, dilations, a
learned initial state, `layer_mix`, `weight_drop`).

- `torch.jit.script(layer)` compiles that module (the layer's `__prepare_scriptable__` hook returns it); for
  a configuration torch cannot compute it raises one line pointing at `torch.export` / `torch.compile`.
- `torch.ao.quantization.quantize_dynamic(model, {nn.LSTM, nn.GRU})` looks modules up by their exact type
  (`type_before_parametrizations(m)` in the qconfig table and in the module mapping, and the quantised
  `LSTM.from_float` refuses any other type), so it leaves every subclass of `nn.LSTM`, seqlab's included,
  in float. `as_torch_modules(model)` returns a copy of `model` with each such seqlab layer replaced by
  `torch_layer_for(layer)`; `quantize_dynamic(as_torch_modules(model), {nn.LSTM, nn.GRU})` then quantises
  them exactly as torch's own.
"""

from __future__ import annotations

import copy

from torch import nn

from seqlab.cells.scripting import not_scriptable, share_weights

TORCH_CLASSES = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN_TANH": nn.RNN, "RNN_RELU": nn.RNN}


def torch_layer_for(layer) -> nn.RNNBase | None:
    """torch's layer computing what `layer` (a `seqlab.nn.LSTM/GRU/RNN`) computes, sharing its weights."""
    if (layer._torch_mode is None or layer._dilated() or layer.initial_state is not None
            or layer.weight_drop):
        return None
    weight = getattr(layer, layer._flat_weights_names[0])
    options = {"num_layers": layer.num_layers, "bias": layer.bias, "batch_first": layer.batch_first,
               "dropout": layer.dropout, "bidirectional": layer.bidirectional,
               "device": weight.device, "dtype": weight.dtype}
    if layer.mode == "LSTM":
        options["proj_size"] = layer.proj_size
    elif layer.mode.startswith("RNN"):
        options["nonlinearity"] = layer.nonlinearity
    target = TORCH_CLASSES[layer.mode](layer.input_size, layer.hidden_size, **options)
    return share_weights(layer, target, layer._flat_weights_names).train(layer.training)


def why_not_torch(layer) -> str:
    if layer._torch_mode is None:
        return layer._why_custom
    if layer._dilated():
        return f"dilations={layer.dilations}"
    if layer.initial_state is not None:
        return "learn_initial_state=True"
    return f"weight_drop={layer.weight_drop}"


def scriptable_layer(layer) -> nn.RNNBase:
    """What `torch.jit.script(layer)` compiles (the hook `FlatRecurrent.__prepare_scriptable__` calls)."""
    target = torch_layer_for(layer)
    if target is None:
        raise not_scriptable(f"this seqlab.nn.{type(layer).__name__}", why_not_torch(layer))
    return target


def as_torch_modules(model: nn.Module) -> nn.Module:
    """A deep copy of `model` with every seqlab layer of a torch configuration replaced by torch's module
    (the copies' own weights); any other seqlab layer stays as it is. `model` itself may be such a layer."""
    from seqlab.nn.flat import FlatRecurrent

    model = copy.deepcopy(model)
    if isinstance(model, FlatRecurrent):
        return torch_layer_for(model) or model
    for name, child in list(model.named_modules()):
        if isinstance(child, FlatRecurrent) and name:
            replacement = torch_layer_for(child)
            if replacement is not None:
                parent_name, _, attr = name.rpartition(".")
                setattr(model.get_submodule(parent_name), attr, replacement)
    return model
