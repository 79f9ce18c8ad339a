"""The diagnostics never crash: no logger, a CSV logger, bare cells, two recurrent parts, no loss."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from callback_harness import TinyTask, fit, make_loader
from lightning.pytorch.loggers import CSVLogger
from torch import nn

from seqlab.callbacks import GateStatistics, GradientFlowThroughTime, GradientNorms, RecurrentSpectrum
from seqlab.cells import GRUCell
from seqlab.nn import GRU, LSTM


def all_callbacks():
    return [GradientFlowThroughTime(), GateStatistics(), RecurrentSpectrum(), GradientNorms(every_n_steps=1)]


class CellTask(TinyTask):
    """A task that runs a bare `GRUCell` in its own loop: no seqlab layer, one scope of cells."""

    def __init__(self) -> None:
        L.LightningModule.__init__(self)
        self.cell = GRUCell(3, 4)
        self.readout = nn.Linear(4, 1)
        self.lr = 0.05

    def loss(self, batch):
        x, y = batch  # (B, T, I), (B, T, 1)
        h = None
        for x_t in x.unbind(1):
            h = self.cell(x_t, h)  # (B, H)
        return nn.functional.mse_loss(self.readout(h), y[:, -1])


class Seq2SeqTask(TinyTask):
    """An encoder and a decoder: two recurrent parts, told apart by name."""

    def __init__(self) -> None:
        L.LightningModule.__init__(self)
        self.encoder = LSTM(3, 4, batch_first=True)
        self.decoder = GRU(1, 4, batch_first=True)
        self.readout = nn.Linear(4, 1)
        self.lr = 0.05

    def loss(self, batch):
        x, y = batch  # (B, T, I), (B, T, 1)
        _, (h, _) = self.encoder(x)  # (1, B, H)
        output, _ = self.decoder(torch.zeros_like(y), h)  # (B, T, H)
        return nn.functional.mse_loss(self.readout(output), y)


def test_no_logger_still_computes():
    callbacks = all_callbacks()
    fit(TinyTask(LSTM(3, 4, batch_first=True)), callbacks, seq_len=5)
    flow, gates, spectrum, norms = callbacks
    assert flow.norms and gates.summaries and spectrum.radii and norms.norms


def test_csv_logger_gets_scalars(tmp_path):
    trainer = L.Trainer(max_epochs=1, logger=CSVLogger(str(tmp_path)), callbacks=all_callbacks(),
                        enable_checkpointing=False, enable_progress_bar=False, num_sanity_val_steps=0)
    trainer.fit(TinyTask(GRU(3, 4, batch_first=True)), make_loader(5), make_loader(5, seed=1))
    header = (tmp_path / "lightning_logs" / "version_0" / "metrics.csv").read_text().splitlines()[0]
    for name in ("grad_flow/layer0/lag0", "gates/layer0/update/mean", "spectral_radius/layer0/reset",
                 "grad_norm/total"):
        assert name in header


def test_bare_cells_are_found():
    callbacks = all_callbacks()
    fit(CellTask(), callbacks, seq_len=5)
    flow, gates, spectrum, _ = callbacks
    assert flow.norms["layer0"].shape == (5,)
    assert set(gates.summaries) == {"layer0/reset", "layer0/update", "layer0/candidate"}
    assert set(spectrum.radii) == {f"spectral_radius/layer0/{g}" for g in ("reset", "update", "candidate")}


def test_encoder_and_decoder_are_named():
    callbacks = all_callbacks()
    fit(Seq2SeqTask(), callbacks, seq_len=5)
    flow, gates, _, _ = callbacks
    assert set(flow.norms) == {"encoder/layer0", "decoder/layer0"}
    assert "decoder/layer0/update" in gates.summaries and "encoder/layer0/forget" in gates.summaries


class NoLossTask(L.LightningModule):
    """A LightningModule that is not a seqlab task: it has no `loss(batch)`."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = GRU(3, 4, batch_first=True)

    def training_step(self, batch, batch_idx):
        return self.rnn(batch[0])[0].pow(2).mean()

    def validation_step(self, batch, batch_idx):
        pass

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_a_module_without_loss_is_skipped_with_a_warning():
    callback = GradientFlowThroughTime()
    with pytest.warns(UserWarning, match="NoLossTask has no loss"):
        fit(NoLossTask(), [callback], seq_len=5)
    assert callback.norms == {}
