"""Short sweep-job folder names: the job number and the values that vary, e.g. `3_cell=gru,lr=0.003`.

Hydra's `override_dirname` names a job after every override, including the ones the whole sweep shares
(`1_cell.hidden_size=256,debug=limit,hparams_search=charlm_optuna,task.dropout=0.43796631737104735,...`).
`hydra.sweep.subdir: ${seqlab_jobname:${hydra.job.num},${hydra.overrides.task},<excluded keys>}` keeps:

- only the swept overrides: a key given on the command line without sweep syntax (`debug=limit`, not
  `cell=rnn,gru`) is the same in every job and left out (`note_command_line` records them; a job that
  finds no record, e.g. in another launcher's worker process, keeps every override);
- each key by its last part (`cell.hidden_size` -> `hidden_size`) unless two swept keys share it, and each
  float to 4 significant digits; characters other than letters, digits and `.-+=_,` become `_`;
- at most `MAX_NAME` characters (then cut, with a hash of the whole so that the name stays telling).

The job number comes first, so two jobs of a sweep never share a folder. The full overrides of each job
stay in its `.hydra/overrides.yaml` and `config.yaml`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

FIXED_KEYS_VARIABLE = "SEQLAB_SWEEP_FIXED_KEYS"
MAX_NAME = 60
UNSAFE = re.compile(r"[^A-Za-z0-9.\-+=_,]")


def override_key(override: str) -> str:
    """`+cell.hidden_size=3` -> `cell.hidden_size`; `~logger` -> `logger`."""
    return override.split("=", 1)[0].lstrip("+~")


def is_sweep(value: str) -> bool:
    """Whether a command-line value sweeps: `a,b` at the top level (not inside `[...]`/`{...}`/quotes), or
    a sweep function (`range(...)`, `choice(...)`, `interval(...)`, `glob(...)`)."""
    if re.match(r"\s*(range|choice|interval|glob|tag)\(", value):
        return True
    depth, quote = 0, None
    for char in value:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
        elif char == "," and depth == 0:
            return True
    return False


def note_command_line(args: list[str]) -> None:
    """Record the keys the command line fixes for every job (`debug=limit`: yes; `cell=rnn,gru`: no)."""
    fixed = sorted({override_key(arg) for arg in args
                    if not arg.startswith("-") and "=" in arg and not is_sweep(arg.split("=", 1)[1])})
    os.environ[FIXED_KEYS_VARIABLE] = json.dumps(fixed)


def fixed_keys() -> set[str]:
    try:
        keys = json.loads(os.environ.get(FIXED_KEYS_VARIABLE, "[]"))
    except ValueError:
        return set()
    return {str(key) for key in keys} if isinstance(keys, list) else set()


def short_value(value: str) -> str:
    """A float to 4 significant digits (`0.43796631737104735` -> `0.438`); anything else as it is."""
    if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)", value):
        return f"{float(value):.4g}"
    return value


def job_name(number, overrides, excluded=()) -> str:
    """`<number>_<swept key=value,...>`, safe as one folder name and at most `MAX_NAME` characters."""
    skip = fixed_keys() | {str(key) for key in (excluded or ())}
    swept = [(override_key(str(o)), str(o).split("=", 1)[1] if "=" in str(o) else "")
             for o in (overrides or ()) if override_key(str(o)) not in skip]
    last_parts = [key.rsplit(".", 1)[-1] for key, _ in swept]
    parts = [f"{short if last_parts.count(short) == 1 else key}={short_value(value)}"
             for (key, value), short in zip(swept, last_parts, strict=True)]
    name = UNSAFE.sub("_", ",".join(parts))
    if len(name) > MAX_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:6]
        name = f"{name[:MAX_NAME - 7]}~{digest}"
    return f"{number}_{name}" if name else str(number)
