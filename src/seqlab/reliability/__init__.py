"""Reliability building blocks for training runs: each module is one piece a Trainer plugs in.

- `safe_load`: `load_checkpoint(path)` loads a checkpoint with `weights_only=True` and seqlab's allow-list;
  every failure is one `CheckpointLoadError` line.
- `checkpoint_io`: `AtomicSafeCheckpointIO`, a CheckpointIO plugin with atomic saves and safe loads.
- `nan_guard`: `NonFiniteLossGuard`, a callback that stops at the first NaN/Inf loss and keeps the last good
  checkpoint.
- `graceful_stop`: `GracefulStop`, a callback that turns SIGTERM/SIGINT into "finish the batch, save
  last.ckpt, exit".
- `rng_state`: `RNGStateCallback`, which puts the torch/numpy/python RNG states into checkpoints for exact
  resume (and the notes on what a task must save itself).
- `stream_position`: `StreamPosition`, which saves how far into its epoch a run is and makes a resumed
  run's truncated-BPTT streams continue from there (with the task's carried state: exact mid-epoch resume).
- `owned_checkpoints`: `OwnedModelCheckpoint`, a ModelCheckpoint that keeps (and removes) only its own files
  on resume and always ends with the final state in `last.ckpt`.
- `trusted_restore`: `TrustedRestore`, which checks and trims the callback, loop, optimizer and schedule
  states Lightning restores from a checkpoint (docs/reliability.md).
- `stored_values`: a checkpoint's stored settings checked as plain data, sizes bounded by its tensors.
- `task_from_checkpoint`: `load_task(path)`, a trained task from a checkpoint with nothing in it imported or
  instantiated (registry keys, validated values, shapes compared on the meta device before allocation).
- `optuna_storage`: whether Optuna's shared RDB storage works with the installed versions, and pins that do.

Wiring (see each module's docstring):

    Trainer(plugins=[AtomicSafeCheckpointIO()],
            callbacks=[NonFiniteLossGuard(), GracefulStop(), RNGStateCallback(), StreamPosition(),
                       OwnedModelCheckpoint(save_last=True), TrustedRestore()])

`seqlab-train` does this through `configs/trainer/default.yaml` (plugins) and
`configs/callbacks/default.yaml`.

The package imports nothing at import time, so `optuna_storage` can be used without torch or Lightning.
"""
