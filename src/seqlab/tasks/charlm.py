"""Character language model (many-to-many): predict every next character of a text.

    x_1..x_T ─► TokenInput (embedding or one-hot) ─► seqlab.nn module ─► dropout ─► Linear ─► logits (B,T,V)
    loss = mean cross-entropy against x_2..x_{T+1}, in nats per character

Truncated BPTT as in char-rnn (`tbptt=True`): batches continue contiguous streams (see
`seqlab.data.streams.StreamBatches`), so the final hidden state of one batch, detached, starts the next.
Each stage (train, val, test) carries its own state and resets it when its epoch starts. With
`tbptt=False` every window starts from a zero state. Checkpoints carry the training state (under
`CARRIED_STATE_KEY`), so a run resumed mid-epoch continues its streams exactly.

Metrics: `train/loss` (each step) and `train/loss_epoch` (its mean over the epoch); `val/loss`, `val/bpc`
(bits per character = loss / ln 2) and `val/ppl`
(perplexity = exp(loss)), from a torchmetrics `MeanMetric` of the loss weighted by characters; the same
under `test/`. Training speed (`train/device/items_per_sec`: characters per second) is logged by the
`throughput` callback (Lightning's `ThroughputMonitor`). After each validation a sample generated from
`sample_prompt` goes to each logger that takes text (TensorBoard's text tab, W&B, MLflow).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import MeanMetric

from seqlab.callbacks.sinks import log_text, text_loggers
from seqlab.data.vocab import UNKNOWN_ID, CharVocab
from seqlab.reliability.work_bounds import MAX_SAMPLE_LENGTH
from seqlab.tasks.base import SequenceTask
from seqlab.tasks.sampling import check_sampling, sample_logits
from seqlab.tasks.token_input import TokenInput

INPUTS = ("embedding", "onehot")
EVAL_STAGES = ("val", "test")
CARRIED_STATE_KEY = "seqlab_carried_state"


def detach_state(state):
    """A layer's `h_n` (a tensor or a tuple of tensors) cut from the graph."""
    if isinstance(state, Tensor):
        return state.detach()
    return tuple(s.detach() for s in state)


class CharLM(SequenceTask):
    """Next-character language model over any `seqlab.nn` module.

    Args:
        rnn: `make_recurrent` arguments (the `cell=` config); must be unidirectional.
        vocab_size: number of token ids (from the datamodule, unknown token included).
        vocab: the vocabulary's characters (from the datamodule), stored so a checkpoint can generate.
        tbptt: carry the hidden state across consecutive batches (streams) or not (independent windows).
        input: "embedding" (learned, `embedding_dim` wide) or "onehot" (fixed, `vocab_size` wide).
        embedding_dim: width of the learned embedding.
        dropout: dropout on the recurrent outputs before the output layer.
        tie_weights: one matrix for the input embedding and the output layer (Press & Wolf 2017; Inan et
            al. 2017); needs input="embedding" and embedding_dim equal to the rnn's output size.
        sample_prompt, sample_length, sample_temperature: the text sample logged after each validation.
        optimizer, lr, weight_decay, lr_schedule, lr_scheduler: see `SequenceTask`.
    """

    def __init__(self, rnn: dict[str, Any], vocab_size: int, vocab: str, tbptt: bool = True,
                 input: str = "embedding", embedding_dim: int = 64, dropout: float = 0.0,
                 sample_prompt: str = "\n", sample_length: int = 300, sample_temperature: float = 0.8,
                 optimizer: str | dict[str, Any] = "adam", lr: float = 2e-3, weight_decay: float = 0.0,
                 lr_schedule: str | None = None, lr_scheduler: dict[str, Any] | None = None,
                 tie_weights: bool = False) -> None:
        super().__init__(rnn, optimizer, lr, weight_decay, lr_schedule, lr_scheduler)
        self.save_hyperparameters()
        if self.rnn_spec.get("bidirectional"):
            raise ValueError("task=charlm needs a unidirectional rnn (cell.bidirectional=false): a backward "
                             "direction would see the very characters it must predict")
        if input not in INPUTS:
            raise ValueError(f"task.input must be one of {', '.join(INPUTS)}, got {input!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"task.dropout must be in [0, 1), got {dropout}")
        check_sampling(sample_temperature, None)
        self.vocab = CharVocab(vocab)
        if self.vocab.size != vocab_size:
            raise ValueError(f"vocab_size={vocab_size} does not match the {self.vocab.size} ids of vocab")
        self.embed = TokenInput(vocab_size, embedding_dim if input == "embedding" else None)
        self.rnn = self.build_rnn(self.embed.output_size)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.rnn.output_size, vocab_size)
        if tie_weights:
            if input != "embedding" or embedding_dim != self.rnn.output_size:
                raise ValueError(f"task.tie_weights=true needs task.input=embedding and task.embedding_dim "
                                 f"equal to the rnn's output size {self.rnn.output_size}, got "
                                 f"input={input}, embedding_dim={embedding_dim}")
            self.head.weight = self.embed.embedding.weight  # one (V, E) matrix, E == the rnn's output size
        self.eval_loss = nn.ModuleDict({stage: MeanMetric() for stage in EVAL_STAGES})
        self._carried: dict[str, Any] = {}

    def forward(self, tokens: Tensor, state=None):
        """`tokens (B, T)` ids, optional `state` -> `(logits (B, T, V), final state)`."""
        output, state = self.rnn(self.embed(tokens), state)  # (B, T, H)
        return self.head(self.dropout(output)), state  # (B, T, V)

    # ------------------------------------------------------------------------------------------ steps
    def loss(self, batch: tuple[Tensor, Tensor], state=None) -> Tensor:
        """The loss of `batch` from `state` (None: zero, as the first window of its streams), leaving the
        carried truncated-BPTT states untouched: the diagnostics callbacks (`seqlab.callbacks`) run it."""
        inputs, targets = batch  # (B, T), (B, T)
        logits, _ = self(inputs, state)  # (B, T, V)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    def _loss(self, batch: tuple[Tensor, Tensor], stage: str) -> Tensor:
        inputs, targets = batch  # (B, T), (B, T)
        carried = self._carried.get(stage) if self.hparams.tbptt else None
        logits, state = self(inputs, carried)  # (B, T, V)
        if self.hparams.tbptt:
            self._carried[stage] = detach_state(state)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        loss = self._loss(batch, "train")
        self.log("train/loss", loss, prog_bar=True, batch_size=batch[0].shape[0])  # every step
        self.log("train/loss_epoch", loss, on_step=False, on_epoch=True, batch_size=batch[0].shape[0])
        return loss

    def _evaluate(self, batch: tuple[Tensor, Tensor], stage: str) -> None:
        loss = self._loss(batch, stage)
        self.eval_loss[stage].update(loss, weight=batch[1].numel())

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def _log_eval_metrics(self, stage: str) -> None:
        loss = self.eval_loss[stage].compute()
        self.log_dict({f"{stage}/loss": loss, f"{stage}/bpc": loss / math.log(2), f"{stage}/ppl": loss.exp()},
                      prog_bar=stage == "val")

    # ------------------------------------------------------------------------------------------ hooks
    def on_train_epoch_start(self) -> None:
        self._carried.pop("train", None)

    def _start_eval_epoch(self, stage: str) -> None:
        # Reset here, not after compute: the states then live in this loop's grad/inference mode.
        self._carried.pop(stage, None)
        self.eval_loss[stage].reset()

    def on_validation_epoch_start(self) -> None:
        self._start_eval_epoch("val")

    def on_test_epoch_start(self) -> None:
        self._start_eval_epoch("test")

    def on_validation_epoch_end(self) -> None:
        self._log_eval_metrics("val")
        if not self.trainer.sanity_checking and text_loggers(self.trainer):
            hp = self.hparams
            sample = self.generate(hp.sample_prompt, hp.sample_length, hp.sample_temperature, seed=0)
            as_markdown = "\n".join("    " + line for line in sample.split("\n"))  # a code block
            log_text(self.trainer, "val/sample", as_markdown)

    def on_test_epoch_end(self) -> None:
        self._log_eval_metrics("test")

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Store the carried training state (a list of tensors, which the safe loader accepts)."""
        state = self._carried.get("train")
        if state is not None:
            tensors = [state] if isinstance(state, Tensor) else list(state)
            checkpoint[CARRIED_STATE_KEY] = [s.detach().cpu() for s in tensors]  # each (L*D, B, H)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Put the carried training state back (a run resumed mid-epoch continues from it)."""
        tensors = checkpoint.get(CARRIED_STATE_KEY)
        if tensors is not None:
            usable = isinstance(tensors, (list, tuple)) and 1 <= len(tensors) <= 2 and all(
                isinstance(t, torch.Tensor) and t.is_floating_point() and t.dim() == 3
                and bool(t.isfinite().all()) for t in tensors)
            if not usable:  # a checkpoint's value: its shape is checked by the layer at the next step
                raise ValueError(f"the checkpoint's {CARRIED_STATE_KEY} must be 1 or 2 finite float tensors "
                                 "(layers, batch, hidden), the carried truncated-BPTT state")
            device = self.device
            state = tuple(s.to(device) for s in tensors)
            self._carried["train"] = state[0] if len(state) == 1 else state

    # ------------------------------------------------------------------------------------- generation
    @torch.no_grad()
    def generate(self, prompt: str, length: int, temperature: float = 1.0, top_k: int | None = None,
                 seed: int | None = None) -> str:
        """`prompt` followed by `length` sampled characters (characters outside the vocabulary in the prompt
        read as the unknown token; the unknown token is never sampled)."""
        if not isinstance(prompt, str) or not prompt:
            raise ValueError(f"prompt must be a non-empty string, got {prompt!r}")
        if isinstance(length, bool) or not isinstance(length, int) or not 0 <= length <= MAX_SAMPLE_LENGTH:
            raise ValueError(f"length must be an integer in [0, {MAX_SAMPLE_LENGTH}] (seqlab's bound on "
                             f"sampled characters), got {length!r}")
        check_sampling(temperature, top_k)
        generator = torch.Generator(device=self.device)
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        was_training = self.training
        self.eval()
        tokens = self.vocab.encode(prompt).to(self.device)[None]  # (1, P)
        logits, state = self(tokens)  # (1, P, V)
        drawn = []
        for _ in range(length):
            next_logits = logits[:, -1].clone()  # (1, V)
            next_logits[:, UNKNOWN_ID] = float("-inf")
            token = sample_logits(next_logits, temperature, top_k, generator)  # (1,)
            drawn.append(token)
            logits, state = self(token[:, None], state)  # (1, 1, V)
        self.train(was_training)
        generated = torch.cat(drawn) if drawn else tokens.new_empty(0)  # (length,)
        return prompt + self.vocab.decode(generated.cpu())

    def predict_step(self, batch: dict[str, list[str]], batch_idx: int = 0) -> list[str]:
        """The continuation of each prompt: `sample_length` characters at `sample_temperature`, seed 0."""
        hp = self.hparams
        return [self.generate(prompt, hp.sample_length, hp.sample_temperature, seed=0)[len(prompt):]
                for prompt in batch["prompt"]]
