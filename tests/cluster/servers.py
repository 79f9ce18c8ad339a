"""Real servers for the cluster tests, started on this machine and stopped after: PostgreSQL and SLURM.

Each `start_*` returns an object with `stop()`; nothing listens anywhere but 127.0.0.1 (PostgreSQL) or the
loopback node of a one-node SLURM cluster. They need Debian's packages (`postgresql`; `slurm-wlm` and
`munge`); `missing_*` says in one line what is not installed, so the tests skip with that line.

The daemons run from a fresh folder under /tmp (PostgreSQL refuses to run as root, so as root its folder
belongs to the `postgres` user and its commands run through `runuser`). SLURM gets its own `slurm.conf`
(ports chosen free, state and logs in the folder) and its own `munged` socket; commands reach it through
`SLURM_CONF` in `env`.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
SLURM_DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "srun", "scontrol", "squeue")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bin() -> Path | None:
    found = sorted(glob.glob(PG_BIN_GLOB))
    return Path(found[-1]) if found and (Path(found[-1]) / "pg_ctl").exists() else None


def missing_postgres() -> str | None:
    return None if pg_bin() else "PostgreSQL is not installed (apt-get install postgresql)"


def missing_slurm() -> str | None:
    absent = [name for name in SLURM_DAEMONS if shutil.which(name) is None]
    if not absent:
        return None
    return f"SLURM is not installed (apt-get install slurm-wlm munge): no {', '.join(absent)}"


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120, **kwargs)


@dataclass
class Postgres:
    folder: Path
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/seqlab"

    def stop(self) -> None:
        pg_ctl = str(pg_bin() / "pg_ctl")
        subprocess.run([*self.as_user, pg_ctl, "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> Postgres:
    """initdb into a fresh folder, start the server on a free port of 127.0.0.1, create database `seqlab`."""
    folder = Path(tempfile.mkdtemp(prefix="seqlab-pg-", dir="/tmp"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    bin_dir, port = pg_bin(), free_port()
    _run([*as_user, str(bin_dir / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "postgres"])
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=50"
    _run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-o", options, "-l",
          str(folder / "server.log"), "-w", "start"])
    server = Postgres(folder, port, as_user)
    _run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "seqlab"])
    return server


@dataclass
class Slurm:
    folder: Path
    env: dict[str, str]
    pids: list[int] = field(default_factory=list)

    def stop(self) -> None:
        subprocess.run(["scancel", "--full", "--user", os.environ.get("USER", "root")], env=self.env,
                       capture_output=True, timeout=30)
        for pid in reversed(self.pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        time.sleep(0.5)
        shutil.rmtree(self.folder, ignore_errors=True)

    def sbatch(self, *args: str) -> int:
        """Submit a batch job; its id."""
        out = _run(["sbatch", "--parsable", *args], env=self.env).stdout
        return int(out.strip().split(";")[0])

    def state(self, job_id: int) -> str:
        """The job's state from `scontrol` (PENDING, RUNNING, COMPLETED, FAILED, ...), "" once forgotten."""
        out = subprocess.run(["scontrol", "show", "job", str(job_id)], env=self.env, capture_output=True,
                             text=True, timeout=30).stdout
        for word in out.split():
            if word.startswith("JobState="):
                return word.split("=", 1)[1]
        return ""

    def report(self, job_id: int) -> str:
        """The job's `scontrol` record and the daemons' last log lines, for a failed assertion."""
        job = subprocess.run(["scontrol", "show", "job", str(job_id)], env=self.env, capture_output=True,
                             text=True, timeout=30).stdout
        logs = [(self.folder / "log" / name).read_text(errors="replace").splitlines()[-15:]
                for name in ("slurmctld.log", "slurmd.log") if (self.folder / "log" / name).exists()]
        return job + "\n".join(line for lines in logs for line in lines)

    def release(self, job_id: int) -> None:
        """Let a requeued job start in 5 s, not 2 minutes (SLURM's hold). Not at once: slurmd refuses a job
        credential made in the same second its previous run's credential was revoked (a launch failure)."""
        _run(["scontrol", "update", f"JobId={job_id}", "StartTime=now+5"], env=self.env)

    def wait(self, job_id: int, timeout: float, until=("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT")) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state(job_id)
            if state in until:
                return state
            time.sleep(0.5)
        raise TimeoutError(f"SLURM job {job_id} still {self.state(job_id)!r} after {timeout} s")


SLURM_CONF = """ClusterName=seqlab
SlurmctldHost={host}(127.0.0.1)
SlurmUser={user}
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={folder}/munge/munge.sock
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/log/slurmctld.log
SlurmdLogFile={folder}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobRequeue=1
KillWait=30
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def start_slurm() -> Slurm:
    """munged, slurmctld and slurmd for a one-node cluster (this machine) with a config of its own."""
    if os.geteuid() != 0:
        raise RuntimeError("the SLURM test cluster runs slurmd, which needs root")
    folder = Path(tempfile.mkdtemp(prefix="seqlab-slurm-", dir="/tmp"))
    for sub in ("munge", "state", "spool", "log"):
        (folder / sub).mkdir()
    (folder / "munge").chmod(0o700)
    key = folder / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    host = socket.gethostname().split(".")[0]
    conf = folder / "slurm.conf"
    conf.write_text(SLURM_CONF.format(host=host, user="root", folder=folder, ctld_port=free_port(),
                                      d_port=free_port(), cpus=os.cpu_count() or 2, mem_mb=4000))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    cluster = Slurm(folder, env)
    munge_dir = folder / "munge"
    _run(["munged", "--force", f"--key-file={key}", f"--socket={munge_dir}/munge.sock",
          f"--pid-file={munge_dir}/munged.pid", f"--log-file={munge_dir}/munged.log",
          f"--seed-file={munge_dir}/seed"])
    cluster.pids.append(int((munge_dir / "munged.pid").read_text()))
    try:
        _run(["slurmctld", "-i"], env=env)
        cluster.pids.append(_wait_pid(folder / "slurmctld.pid"))
        _run(["slurmd"], env=env)
        cluster.pids.append(_wait_pid(folder / "slurmd.pid"))
        _wait_idle(env)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _wait_pid(path: Path, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.2)
    raise TimeoutError(f"no {path} after {timeout} s")


def _wait_idle(env: dict[str, str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True).stdout
        if out.strip() == "idle":
            return
        time.sleep(0.5)
    raise TimeoutError(f"the SLURM node is not idle after {timeout} s")
