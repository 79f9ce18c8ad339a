"""A training run's folder: checked before Hydra runs, locked while training, left as it was on failure.

Before Hydra (`check_run_dir_argument`, `restore_run_overrides`, from `seqlab-train`'s `main`):
- `hydra.run.dir` is read as Hydra will read it (its override grammar: quotes; `${oc.env:...}`), so a
  quoted or interpolated run folder is recognised as the existing run it names;
- `hydra.run.dir=<a file>` or a folder that cannot be written (read-only file system, no permission) is one
  line, before Hydra creates or writes anything;
- `hydra.run.dir=<existing run> ckpt_path=last` (an in-place resume) runs with the run's own overrides
  (its `.hydra/overrides.yaml`; not its `+callbacks.<name>` additions, which belong to one command), and a
  given override that contradicts one of them is refused, except the
  budget keys of `RESUME_CHANGEABLE` (train longer); Hydra is told not to write `.hydra/` there
  (`hydra.output_subdir=null`): `RunFolder.record` writes it once training is about to start. A stored
  override that chooses where outputs go (`paths.*`, `*.dirpath`, `*.save_dir`, `*.filename`, ...) is
  replayed only when it stays inside the run folder; the restored overrides are then checked like a new
  command line (`seqlab-train`'s `main` checks group choices and keys after `prepare_argv`).

During the run (`RunFolder`, a context manager around the body of `train`):
- the folder is locked (`flock` on the folder itself; released when the process ends, however it ends): a
  second process on the same folder is refused in one line;
- stale temporary files of a save that was killed (`.<name>.ckpt.<pid>.<hex>.tmp`) are removed;
- a folder that already holds a run is refused unless the command resumes (`ckpt_path=...`);
- `record` writes `config.yaml` (and `.hydra/` when Hydra was told not to) just before training starts, so
  a command that fails before then changes nothing in an existing run; a folder this command created is
  removed again when it fails before `record` (no empty run folders), except a sweep job's folder
  (`keep_on_failure`), which keeps Hydra's record and the job's `FAILED` line for the sweep's report;
- a failure after `record` but before the first training step (`marker`, a trainer callback, says when
  training starts) undoes what `record` and Lightning wrote (`seqlab.cli.run_rollback`), so it too leaves
  the folder as it was.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from seqlab.cli.checkpoint_folder import claim_checkpoint_folder
from seqlab.cli.run_dir_checks import check_free_space, check_run_dir_names
from seqlab.cli.run_rollback import Rollback, StartMarker
from seqlab.reliability.checkpoint_io import remove_stale_temporaries

# Settings an in-place resume may change from the run's own: how long it trains, and how it reports.
RESUME_CHANGEABLE = ("trainer.max_epochs", "trainer.max_steps", "trainer.max_time", "trainer.min_epochs",
                     "trainer.enable_progress_bar", "trainer.enable_model_summary",
                     "callbacks.rich_progress_bar", "callbacks.rich_model_summary")
# Hydra's instantiation keys: a stored override setting one (or naming a `_target_`) is refused, not replayed.
INSTANTIATE_KEYS = ("_target_", "_args_", "_partial_", "_convert_", "_recursive_")
NOT_RESTORED = ("ckpt_path", "hydra.")  # keys not restored; nor `+callbacks.<name>` additions (per command)
RUN_MARKERS = ("config.yaml", "checkpoints")  # what a run that started training leaves
# Set by `prepare_argv`: folders that existed before Hydra ran, and whether `train` writes `.hydra/` itself.
PREEXISTING: set[Path] = set()
WRITE_HYDRA_RECORD = {"enabled": False}


def _value_of(argv: list[str], key: str) -> str | None:
    for arg in argv:
        if arg.split("=", 1)[0].lstrip("+~") == key and "=" in arg:
            return arg.split("=", 1)[1]
    return None


def resolved_run_dir(argv: list[str]) -> str | None:
    """`hydra.run.dir` as Hydra will use it: the override parsed by Hydra's own grammar (quotes removed)
    and its `${oc.env:...}` interpolations resolved; ValueError for one that cannot be resolved before
    Hydra runs (it names other config keys)."""
    arg = next((a for a in reversed(argv) if "=" in a and _key(a) == "hydra.run.dir"), None)
    if arg is None:
        return None
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        value = OverridesParser.create().parse_override(arg.lstrip("+~")).value()
    except Exception as error:  # Hydra's grammar error: one line
        raise ValueError(f"{arg}: not a valid override ({str(error).splitlines()[0]})") from None
    if not isinstance(value, str):
        raise ValueError(f"{arg}: give the run folder as one path")
    if "${" in value:
        from hydra.core.utils import setup_globals

        setup_globals()  # Hydra's own resolvers (`now`), as in its run
        try:
            value = str(OmegaConf.create({"dir": value}).dir)
        except Exception:
            raise UnresolvedRunDir(f"{arg}: the folder names config keys that are known only once Hydra "
                                   "runs; to resume a run give its folder as a path (environment "
                                   "variables: ${oc.env:NAME})") from None
    return value


class UnresolvedRunDir(ValueError):
    """`hydra.run.dir` interpolates config keys: only Hydra knows the folder."""


# A stored override of one of these keys (or of `paths.*`) chooses where outputs go: replayed only when its
# value is a plain path inside the run folder (a `filename` only when it is a plain file name).
OUTPUT_KEY_NAMES = ("dirpath", "save_dir", "default_root_dir", "output_dir", "ckpt_dir", "log_dir",
                    "cache_dir", "root_dir", "dir", "filename", "tracking_uri")


def _check_stored_output(override: str, run_dir: Path, record: Path) -> None:
    """Raise ValueError when a stored override would send outputs out of `run_dir`."""
    key, _, value = override.partition("=")
    key = key.lstrip("+~")
    name = key.rsplit(".", 1)[-1]
    if not key.startswith("paths.") and name not in OUTPUT_KEY_NAMES:
        return
    value = value.strip().strip("'\"")
    if name == "filename":
        inside = "/" not in value and ".." not in value and "${" not in value
    else:
        target = Path(value).expanduser()
        target = target if target.is_absolute() else run_dir / target
        resolved, root = os.path.realpath(target), os.path.realpath(run_dir)
        inside = "${" not in value and "://" not in value and (resolved == root
                                                               or resolved.startswith(root + os.sep))
    if not inside:
        raise ValueError(f"hydra.run.dir={run_dir} ckpt_path=last: the run's stored override {override!r} "
                         f"({record}) sends outputs out of the run folder; seqlab never replays that from a "
                         "file: give it on the command line if you mean it, or drop it from the record")


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def check_run_dir_argument(run_dir: str) -> None:
    """Raise ValueError when `hydra.run.dir=run_dir` names a file, or a place that cannot be written."""
    folder = Path(run_dir).expanduser()
    check_run_dir_names(run_dir, folder)  # before anything stats a name too long
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"hydra.run.dir={run_dir}: is a file, not a folder; give a folder for the run")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        reason = "read-only file system" if _read_only(existing) else "permission denied"
        raise ValueError(f"hydra.run.dir={run_dir}: cannot write in {existing} ({reason}); give a writable "
                         "folder")
    check_free_space(run_dir, existing)


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def restore_run_overrides(argv: list[str], run_dir: Path) -> list[str]:
    """`argv` of an in-place resume with the run's own overrides put back (see the module docstring)."""
    record = run_dir / ".hydra" / "overrides.yaml"
    if not record.is_file():
        return argv
    stored = [str(item) for item in OmegaConf.load(record)
              if not _key(str(item)).startswith(NOT_RESTORED) and not str(item).startswith("+callbacks.")]
    given = {_key(arg): arg for arg in argv if "=" in arg and not arg.startswith("-")}
    restored = []
    for override in stored:
        key = _key(override)
        if "_target_" in override or any(part in INSTANTIATE_KEYS for part in key.split(".")):
            raise ValueError(f"hydra.run.dir={run_dir} ckpt_path=last: the run's stored override "
                             f"{override!r} ({record}) names code to instantiate; seqlab never replays that "
                             "from a file")
        if key not in given:
            _check_stored_output(override, run_dir, record)
            restored.append(override)
        elif given[key].lstrip("+~") != override.lstrip("+~") and key not in RESUME_CHANGEABLE:
            raise ValueError(
                f"hydra.run.dir={run_dir} ckpt_path=last: {given[key]} contradicts the run's own {override} "
                f"({record}); a resumed run keeps its config (only {', '.join(RESUME_CHANGEABLE[:3])} may "
                "change): drop the override, or train a new run")
    return [*restored, *argv]


def prepare_argv(argv: list[str]) -> list[str]:
    """`seqlab-train`'s arguments, checked and completed before Hydra runs (see the module docstring)."""
    try:
        run_dir = resolved_run_dir(argv)
    except UnresolvedRunDir:
        if _value_of(argv, "ckpt_path") is not None:
            raise
        WRITE_HYDRA_RECORD["enabled"] = True  # the folder may hold a run: Hydra writes nothing there
        return [*argv, "hydra.output_subdir=null"]
    if run_dir is None:
        check_run_dir_argument(".")
        return argv
    check_run_dir_argument(run_dir)
    folder = Path(run_dir).expanduser()
    if not folder.is_dir():
        return argv
    PREEXISTING.add(folder.resolve())
    if _value_of(argv, "ckpt_path") == "last":
        argv = restore_run_overrides(argv, folder)
    if any((folder / marker).exists() for marker in (*RUN_MARKERS, ".hydra")):
        WRITE_HYDRA_RECORD["enabled"] = True
        argv = [*argv, "hydra.output_subdir=null"]
    return argv


class RunFolder:
    """`with RunFolder(output_dir, resuming) as run: ...; run.record(config); trainer.fit(...)`."""

    def __init__(self, output_dir: str | os.PathLike, resuming: bool, lock: bool = True,
                 keep_on_failure: bool = False) -> None:
        self.path = Path(output_dir)
        self.keep_on_failure = keep_on_failure
        self.resuming = resuming
        self.lock = lock
        self.recorded = False
        self._fd: int | None = None
        self.created = False
        self.rollback = Rollback()  # what `record` changed, undone when training never starts
        self.marker = StartMarker()  # a callback of the trainer: training started

    def __enter__(self) -> RunFolder:
        folder = self.path
        if not self.lock:  # DDP's other ranks: rank zero checked, locked and recorded this folder
            return self
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"hydra.run.dir={folder}: is a file, not a folder; give a folder for the run")
        holds_run = folder.is_dir() and any((folder / marker).exists() for marker in RUN_MARKERS)
        self.created = not holds_run and folder.resolve() not in PREEXISTING
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ValueError(f"hydra.run.dir={folder}: cannot create the run folder "
                             f"({error.strerror})") from error
        if self.lock:
            self._acquire()
        if holds_run and not self.resuming and (folder / "config.yaml").exists():
            self._release()
            raise ValueError(f"hydra.run.dir={folder} already holds a run (config.yaml); resume it with "
                             "ckpt_path=last, or choose a new folder")
        if self.lock:
            remove_stale_temporaries(folder / "checkpoints")
        return self

    def _acquire(self) -> None:
        self._fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise ValueError(f"hydra.run.dir={self.path}: another seqlab-train process is using this run "
                             "folder; wait for it to end or choose another folder") from None

    def _release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def claim_checkpoints(self, ckpt_dir: str | os.PathLike, ckpt_path: str | None) -> None:
        """Check (and lock) a checkpoint folder outside the run folder (`seqlab.cli.checkpoint_folder`)."""
        if not self.lock:
            return
        resuming_from_it = ckpt_path is not None and \
            os.path.dirname(os.path.realpath(ckpt_path)) == os.path.realpath(ckpt_dir)
        self._ckpt_fd = claim_checkpoint_folder(self.path, ckpt_dir, resuming_from_it)

    def record(self, resolved: dict[str, Any], hydra_record: dict[str, Any] | None = None) -> None:
        """Write the run's `config.yaml` (and, when given, `.hydra/<name>.yaml` files): training starts."""
        hydra_files = [self.path / ".hydra" / f"{name}.yaml" for name in hydra_record or {}]
        self.rollback.snapshot(self.path, [self.path / "config.yaml", *hydra_files])
        (self.path / "config.yaml").write_text(OmegaConf.to_yaml(resolved))
        for name, content in (hydra_record or {}).items():
            (self.path / ".hydra").mkdir(exist_ok=True)
            (self.path / ".hydra" / f"{name}.yaml").write_text(OmegaConf.to_yaml(content))
        self.recorded = True

    def __exit__(self, kind, error, traceback) -> None:
        if error is not None and self.recorded and not self.marker.started and not self.keep_on_failure:
            self.rollback.undo()  # failed before the first training step: as if never recorded
            self.recorded = False
        self._release()
        if getattr(self, "_ckpt_fd", None) is not None:
            os.close(self._ckpt_fd)  # closing releases its lock
            self._ckpt_fd = None
        if error is not None and self.created and not self.recorded and not self.keep_on_failure:
            self._remove_if_nothing_kept()

    def _remove_if_nothing_kept(self) -> None:
        """Remove the folder this command created when it holds nothing but Hydra's start-up files."""
        kept = [p for p in self.path.rglob("*") if p.is_file() and p.suffix != ".log"
                and ".hydra" not in p.relative_to(self.path).parts]
        if not kept:
            shutil.rmtree(self.path, ignore_errors=True)


def fail(prog: str, message: str) -> None:
    """One line on stderr and exit status 2 (a bad command line, before Hydra runs)."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    sys.exit(2)
