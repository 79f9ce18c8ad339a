"""RecurrentSpectrum: spectral radii equal numpy's eigenvalues of the same weight blocks."""

from __future__ import annotations

import numpy as np
import pytest
from callback_harness import TinyTask, fit, last_scalar, read_events

from seqlab.callbacks import RecurrentSpectrum
from seqlab.nn import GRU, LSTM, RNN


def numpy_radius(block) -> float:
    return float(np.abs(np.linalg.eigvals(block.detach().numpy().astype(np.float64))).max())


@pytest.mark.parametrize(("layer", "gates"), [
    (RNN(3, 5, num_layers=2, bidirectional=True, batch_first=True), ("hh",)),
    (GRU(3, 5, batch_first=True), ("reset", "update", "candidate")),
])
def test_radius_of_each_block_equals_numpy(tmp_path, layer, gates):
    callback = RecurrentSpectrum()
    trainer = fit(TinyTask(layer), [callback], tmp_path, seq_len=4)
    events = read_events(trainer)
    expected_count = 0
    for name, weight in layer.state_dict().items():
        if not name.startswith("weight_hh"):
            continue
        suffix = name.removeprefix("weight_hh_")  # l0, l0_reverse, l1, ...
        label = "layer" + suffix.removeprefix("l")
        for gate, block in zip(gates, weight.chunk(len(gates)), strict=True):
            tag = f"spectral_radius/{label}/{gate}"
            assert last_scalar(events, tag) == pytest.approx(numpy_radius(block), rel=1e-6)
            expected_count += 1
    assert len(callback.radii) == expected_count


def test_projected_lstm_blocks_are_skipped_without_error():
    callback = RecurrentSpectrum()
    fit(TinyTask(LSTM(3, 5, proj_size=2, batch_first=True)), [callback], seq_len=4)
    assert callback.radii == {}
    with pytest.raises(ValueError, match="every_n_epochs must be a positive integer, got 1.5"):
        RecurrentSpectrum(every_n_epochs=1.5)
