"""task=frames: next-frame prediction over videos `(B, T, C, H, W)` or 1-D frames `(B, T, C, L)` (e.g.
`dataset=bouncing_balls`, `dataset.dims=1` for the 1-D form; the datamodule then gives `height=None`).

The recurrent module reads the frames flattened, `(B, T, C·H·W)`; its output at step t predicts frame t+1.
With `cell=conv_lstm` (Shi et al. 2015) or `cell=conv_gru` (Ballas et al. 2016) the task sets the cell's
`frame_size` from the data and a 1×1 convolution maps the hidden channels to the frame's channels; any other
cell gets a linear layer to C·H·W.
Pixels are intensities in [0, 1]: the loss is the binary cross-entropy of the predicted logits, and
`val/mse` (`test/mse`) the mean squared error of the predicted intensities, beside `val/mse_copy`, that of
the trivial guess "frame t+1 = frame t". On the first validation batch of each epoch the first video's
frames and their predictions go to TensorBoard as images (`val/frames`, `val/predictions`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import MeanSquaredError

from seqlab.callbacks.sinks import tensorboard_writers
from seqlab.data.checks import check_integer
from seqlab.tasks.supervised import SupervisedTask, per_stage


class FramesTask(SupervisedTask):
    """Predict frame t+1 from frames 1..t.

    Args:
        rnn: `make_recurrent` arguments (the `cell=` config); unidirectional (the future must stay unseen).
        channels, height, width: the frame shape (from the datamodule); height None: 1-D frames of `width`.
        max_images: frames of the first validation video logged as images each epoch (0: none).
        optimization: `optimizer`, `lr`, `weight_decay`, `lr_schedule` (see `SequenceTask`).
    """

    def __init__(self, rnn: dict[str, Any], channels: int, height: int | None, width: int,
                 max_images: int = 8, **optimization: Any) -> None:
        for name, value in (("channels", channels), ("height", height), ("width", width)):
            if value is not None or name != "height":
                check_integer(name, value)
        check_integer("max_images", max_images, minimum=0)
        super().__init__(rnn, **optimization)
        self.save_task_hyperparameters()
        if self.rnn_spec.get("bidirectional"):
            raise ValueError("task=frames needs a unidirectional rnn (a backward pass would see the frame it "
                             "predicts); set cell.bidirectional=false")
        self.frame_shape = (channels, width) if height is None else (channels, height, width)
        spatial = list(self.frame_shape[1:])  # [L] or [H, W]
        pixels = math.prod(spatial)
        self.max_images = max_images
        self.convolutional = self.rnn_spec.get("cell") in ("conv_lstm", "conv_gru")
        spec = dict(self.rnn_spec)
        if self.convolutional:
            options = dict(spec.get("cell_kwargs") or {})
            given = options.get("frame_size")
            if given is not None and list(given) != spatial:
                raise ValueError(f"cell.cell_kwargs.frame_size {list(given)} differs from the dataset's "
                                 f"frames {tuple(spatial)}; leave it unset for task=frames")
            spec["cell_kwargs"] = {**options, "frame_size": spatial}
        from seqlab.nn import make_recurrent

        self.rnn = make_recurrent(input_size=channels * pixels, batch_first=True, **spec)
        if self.convolutional:
            conv = nn.Conv1d if height is None else nn.Conv2d
            self.head = conv(self.rnn.output_size // pixels, channels, kernel_size=1)
        else:
            self.head = nn.Linear(self.rnn.output_size, channels * pixels)
        self.mse = per_stage(MeanSquaredError())
        self.mse_copy = per_stage(MeanSquaredError())
        self._first_val_batch = True

    def forward(self, frames: Tensor) -> Tensor:
        """`frames (B, T, C, H, W)` -> logits of the next frames `(B, T, C, H, W)` (step t predicts t+1);
        `(B, T, C, L)` alike."""
        batch, steps = frames.shape[:2]
        output, _ = self.rnn(frames.reshape(batch, steps, -1))  # (B, T, F)
        if self.convolutional:
            maps = output.reshape(batch * steps, -1, *self.frame_shape[1:])  # (B*T, D*Hc, H, W) or (.., L)
            return self.head(maps).reshape(batch, steps, *self.frame_shape)  # (B, T, C, H, W)
        return self.head(output).reshape(batch, steps, *self.frame_shape)  # (B, T, C, H, W)

    def _check(self, frames: Tensor) -> None:
        if frames.dim() != 2 + len(self.frame_shape) or tuple(frames.shape[2:]) != self.frame_shape \
                or frames.shape[1] < 2:
            shape = ", ".join(map(str, self.frame_shape))
            raise ValueError(f"task=frames: expected frames of shape (B, T >= 2, {shape}), "
                             f"got {tuple(frames.shape)}")

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        frames = batch["frames"]  # (B, T, C, H, W)
        self._check(frames)
        logits = self(frames[:, :-1])  # (B, T-1, C, H, W)
        return F.binary_cross_entropy_with_logits(logits, frames[:, 1:])

    def evaluate(self, batch: dict[str, Tensor], stage: str) -> Tensor:
        frames = batch["frames"]  # (B, T, C, H, W)
        self._check(frames)
        logits = self(frames[:, :-1])  # (B, T-1, C, H, W)
        targets = frames[:, 1:]  # (B, T-1, C, H, W)
        predictions = logits.sigmoid()
        self.mse[stage](predictions.reshape(-1), targets.reshape(-1))
        self.mse_copy[stage](frames[:, :-1].reshape(-1), targets.reshape(-1))
        self.log(f"{stage}/mse", self.mse[stage], prog_bar=stage == "val")
        self.log(f"{stage}/mse_copy", self.mse_copy[stage])
        if stage == "val" and self._first_val_batch:
            self._first_val_batch = False
            self.log_images(targets[0], predictions[0])
        return F.binary_cross_entropy_with_logits(logits, targets)

    def on_validation_epoch_start(self) -> None:
        self._first_val_batch = True

    def log_images(self, targets: Tensor, predictions: Tensor) -> None:
        """The first `max_images` target frames and their predictions, `(T, C, H, W)` each, to TensorBoard;
        1-D frames `(T, C, L)` as one space-time image each (time down, position across)."""
        if not self.max_images or self._trainer is None or self.trainer.sanity_checking:
            return
        for writer in tensorboard_writers(self.trainer):
            if hasattr(writer, "add_images"):
                for tag, images in (("val/frames", targets), ("val/predictions", predictions)):
                    shown = images[: self.max_images].detach().float().clamp(0, 1).cpu()  # (N, C, H, W)
                    if shown.dim() == 3:  # 1-D frames (N, C, L) -> one (1, C, N, L) space-time image
                        shown = shown.permute(1, 0, 2).unsqueeze(0)
                    writer.add_images(tag, shown, global_step=self.global_step, dataformats="NCHW")

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int = 0) -> Tensor:
        """Predicted intensities of each next frame, `(B, T, C, H, W)`."""
        return torch.sigmoid(self(batch["frames"]))
