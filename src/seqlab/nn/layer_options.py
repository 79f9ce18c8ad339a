"""The keyword-only layer options every seqlab layer takes beyond torch's arguments, checked in one place.

    input_dropout, recurrent_dropout, dropout_mode, zoneout, zoneout_hidden, zoneout_cell
        regularisation inside the recurrence (`seqlab.nn.regularisation`)
    merge_mode      how a bidirectional stack combines its directions (`seqlab.nn.merge`)
    residual        add each stacked layer's input to its output, x^(l+1) = layer_l(x^(l)) + x^(l), for the
                    layers l >= 1 (Wu et al. 2016, GNMT; He et al. 2016); layer 0's input is the data
    return_all_states  `forward` returns a third value: every step's full state (see `seqlab.nn.stack`)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seqlab.nn.merge import check_merge_mode
from seqlab.nn.regularisation import Regularisation, make_regularisation

REGULARISATION_OPTIONS = ("input_dropout", "recurrent_dropout", "dropout_mode", "zoneout", "zoneout_hidden",
                          "zoneout_cell")
LAYER_OPTIONS = (*REGULARISATION_OPTIONS, "merge_mode", "residual", "return_all_states")
# The `cell=` config fields of configs/cell_options/default.yaml and their defaults (a run saved before they
# existed resumes with these).
CELL_CONFIG_DEFAULTS = {"input_dropout": 0.0, "recurrent_dropout": 0.0, "dropout_mode": "standard",
                        "zoneout": 0.0, "zoneout_hidden": None, "zoneout_cell": None, "merge_mode": "concat",
                        "residual": False, "layers": None}


@dataclass(frozen=True)
class LayerOptions:
    regularisation: Regularisation = field(default_factory=Regularisation)
    merge_mode: str = "concat"
    residual: bool = False
    return_all_states: bool = False

    def extra_repr_parts(self) -> list[str]:
        parts = self.regularisation.extra_repr_parts()
        if self.merge_mode != "concat":
            parts.append(f"merge_mode={self.merge_mode!r}")
        for name in ("residual", "return_all_states"):
            if getattr(self, name):
                parts.append(f"{name}=True")
        return parts


def make_layer_options(owner: str, num_layers: int, bidirectional: bool, options: dict) -> LayerOptions:
    """Check `options` (keyword arguments named in `LAYER_OPTIONS`) and return them as `LayerOptions`."""
    for name in options:
        if name not in LAYER_OPTIONS:
            raise TypeError(f"{owner}.__init__() got an unexpected keyword argument {name!r} "
                            f"(layer options: {', '.join(LAYER_OPTIONS)})")
    for name in ("residual", "return_all_states"):
        if not isinstance(options.get(name, False), bool):
            raise TypeError(f"{owner}: {name} must be a bool, got {type(options[name]).__name__}")
    if options.get("residual") and num_layers < 2:
        raise ValueError(f"{owner}: residual=True connects stacked layers; it needs num_layers >= 2, "
                         f"got {num_layers}")
    regularisation = make_regularisation(owner, **{k: v for k, v in options.items()
                                                   if k in REGULARISATION_OPTIONS})
    return LayerOptions(regularisation, check_merge_mode(owner, options.get("merge_mode", "concat"),
                                                         bidirectional),
                        options.get("residual", False), options.get("return_all_states", False))


def check_residual_sizes(owner: str, input_sizes: list[int], output_sizes: list[int]) -> None:
    """Residual connections need layer l's input and output sizes equal for every l >= 1."""
    for layer in range(1, len(input_sizes)):
        if input_sizes[layer] != output_sizes[layer]:
            raise ValueError(f"{owner}: residual=True adds layer {layer}'s input to its output, but their "
                             f"sizes differ ({input_sizes[layer]} and {output_sizes[layer]}); give that "
                             "layer an output size equal to its input size")
