"""The registry (`CELLS`, `make_cell`) and what every registered cell does: run, replicate, record."""

from __future__ import annotations

import pytest
import torch

from seqlab import cells
from seqlab.cells import CELLS, RecurrentCell, make_cell

REQUIRED = {"rnn", "lstm", "peephole_lstm", "cifg_lstm", "gru", "gru_textbook", "mgu", "leaky"}
# Options that give every cell family an extra parameter or state, for the replicate check.
RICH_OPTIONS = {
    "rnn": {"nonlinearity": "relu", "recurrent_init": "identity"},
    "lstm": {"proj_size": 2, "forget_bias": 1.0, "no_output_gate": True, "full_gate_recurrence": True},
    "peephole_lstm": {"full_gate_recurrence": True, "proj_size": 2},
    "cifg_lstm": {"peephole": True, "forget_bias": 2.0},
    "gru": {"recurrent_init": "orthogonal"},
    "gru_textbook": {},
    "mgu": {"bias": False},
    "leaky": {"tau": [1.5, 2.0, 3.0, 4.0], "learn_tau": True},
    "esn": {"leak": 0.5, "sparsity": 0.5, "bias": False},
    "conv_lstm": {"kernel_size": 1, "peephole": False},
    "conv_gru": {"kernel_size": 1, "bias": False},
    "layernorm_lstm": {"recurrent_init": "orthogonal"},
    "layernorm_gru": {"bias": False},
    "indrnn": {"recurrent_max_steps": 100},
    "mingru": {"candidate": "linear", "mlp_ratio": 2},
    "minlstm": {"bias": False, "mlp_ratio": 1},
    "lru": {"state_size": 3, "bias": True, "r_min": 0.5},
}


def test_registry_names_and_exports():
    assert REQUIRED <= set(CELLS)
    assert set(RICH_OPTIONS) == set(CELLS)
    for cell_class in CELLS.values():
        assert issubclass(cell_class, RecurrentCell)
        assert cell_class.__name__ in cells.__all__ and getattr(cells, cell_class.__name__) is cell_class


@pytest.mark.parametrize("name", list(CELLS))
def test_make_cell_builds_the_registered_class(name):
    cell = make_cell(name, 3, 4, **RICH_OPTIONS[name])
    assert type(cell) is CELLS[name]
    assert (cell.input_size, cell.hidden_size) == (3, 4)


def test_unknown_cell_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown cell 'lstmm'; choose one of rnn, lstm, .*mgu, leaky"):
        make_cell("lstmm", 3, 4)


def test_unknown_option_is_a_type_error():
    with pytest.raises(
        TypeError, match=r"cell 'gru' \(GRUCell\) got unexpected keyword argument\(s\) peephole"
    ):
        make_cell("gru", 3, 4, peephole=True)
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) proj"):
        make_cell("peephole_lstm", 3, 4, proj=2)  # **options are followed up to LSTMCell


@pytest.mark.parametrize("name", list(CELLS))
def test_replicate_keeps_the_configuration_with_fresh_parameters(name, seed):
    cell = make_cell(name, 3, 4, **RICH_OPTIONS[name])
    clone = cell.replicate(6)
    assert type(clone) is type(cell) and clone.input_size == 6
    assert clone.extra_repr().replace("6, 4", "3, 4", 1) == cell.extra_repr()
    ours, theirs = dict(cell.named_parameters()), dict(clone.named_parameters())
    assert ours.keys() == theirs.keys()
    for key, p in ours.items():
        expected_shape = (p.shape[0], 6, *p.shape[2:]) if key == "weight_ih" else p.shape  # conv: k x k too
        assert theirs[key].shape == expected_shape, key
        assert theirs[key].data_ptr() != p.data_ptr(), key
    assert dict(clone.named_buffers()).keys() == dict(cell.named_buffers()).keys()
    assert clone.state_sizes == cell.state_sizes
    h, state = clone.step(clone.project_input(torch.randn(2, 6)), clone.init_state(2))
    assert h.shape == (2, clone.output_size)


@pytest.mark.parametrize("name", list(CELLS))
def test_step_records_gate_activations(name, seed):
    cell = make_cell(name, 3, 4, **RICH_OPTIONS[name])
    recorder = []
    cell.gate_recorder = recorder
    cell(torch.randn(2, 3))
    if not cell.gate_names:  # Elman and leaky cells have no gates
        assert recorder == []
        return
    (record,) = recorder
    assert set(record) >= set(cell.gate_names)
    for gate, value in record.items():
        assert value.shape == (2, 4) and not value.requires_grad, gate
        low, high = (-1.0, 1.0) if gate in ("cell", "candidate") else (0.0, 1.0)
        assert bool(((value >= low) & (value <= high)).all()), gate
