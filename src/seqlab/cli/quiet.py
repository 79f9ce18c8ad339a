"""Silence the library messages every run printed that are not the user's business.

`verbose=false` (the default) sets Lightning's own info loggers (`lightning.pytorch.utilities.rank_zero`,
`lightning.pytorch.accelerators`) to WARNING: no `GPU available: False, used: False`, `TPU available: ...`,
`val_check_interval=1.0` notice or "`Trainer.fit` stopped" line (seqlab's summary says why a run stopped,
`seqlab.cli.stop_reason`). It also drops ModelCheckpoint's "could not find the monitored key" warning, which a
run shorter than an epoch meets before its first validation (the summary then says "best checkpoint: none
saved"; once validation has run, Lightning raises on a missing key instead, so a wrong `monitor` still fails).
The same goes for Lightning's hint that "The `srun` command is available on your system but is not used",
printed by every run on a machine with SLURM installed (a cluster's login node, or this project's CI);
`hydra/launcher=slurm` and `scripts/slurm/train.sbatch` are how seqlab runs under SLURM.
`verbose=true` keeps all of those. Warnings stay on at both levels; the few below are dropped by their text:

- Lightning's tip to install litlogger (an advertisement, printed by every Trainer).
- "Trainer already configured with model summary callbacks" (seqlab picks RichModelSummary on purpose),
  and "Loading `train_dataloader` to estimate number of stepping batches" (asked for by LR schedules).
- torch's deprecation of `isinstance(treespec, LeafSpec)`, raised inside Lightning's own code.
- "`weights_only` was not set" when a checkpoint is saved on SIGTERM (seqlab loads checkpoints with
  `weights_only=True` through its own allow-list; the message is about Lightning's default).
- "Total length of `list` across ranks is zero": a datamodule without a validation split (`val_fraction=0`)
  returns `[]` for its val loader on purpose.
- Lightning's warning that an `IterableDataset` with `__len__` may be inaccurate "when num_workers > 1" — only
  when the run uses at most one worker, where it cannot apply.
"""

from __future__ import annotations

import logging
import re
import warnings

LOG_MESSAGES = {
    "lightning.pytorch.utilities.rank_zero": ("💡 Tip: For seamless cloud logging",
                                              "Trainer already configured with model summary callbacks",
                                              "Loading `train_dataloader` to estimate number of stepping"),
    "lightning.pytorch.trainer.connectors.checkpoint_connector": ("`weights_only` was not set",),
}
WARNING_MESSAGES = (re.escape("`isinstance(treespec, LeafSpec)` is deprecated"),
                    re.escape("Total length of `list` across ranks is zero"))
WORKERS_WARNING = re.escape("Your `IterableDataset` has `__len__` defined.")
# Lightning's info loggers that `verbose=false` raises to WARNING.
INFO_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators")
MONITOR_WARNING = r".*`ModelCheckpoint\(monitor=.*could not find the monitored key"
SRUN_HINT = re.escape("The `srun` command is available on your system but is not used")


class DropMessages(logging.Filter):
    """A logging filter dropping records whose message starts with one of `prefixes`."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith(self.prefixes)


def quiet_known_noise(num_workers: int = 0, verbose: bool = False) -> None:
    """Install the filters above (idempotent: a filter already installed is not added again); `verbose`
    keeps Lightning's info lines and the missing-monitor warning."""
    for name in INFO_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    if not verbose:
        warnings.filterwarnings("ignore", message=MONITOR_WARNING)
        warnings.filterwarnings("ignore", message=SRUN_HINT)
    for name, prefixes in LOG_MESSAGES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropMessages) for f in logger.filters):
            logger.addFilter(DropMessages(prefixes))
    for message in WARNING_MESSAGES:
        warnings.filterwarnings("ignore", message=message)
    if num_workers <= 1:
        warnings.filterwarnings("ignore", message=WORKERS_WARNING)
