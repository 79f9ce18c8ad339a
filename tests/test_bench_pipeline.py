"""scripts/bench_pipeline.py runs end to end on tiny models and prints its markdown table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_pipeline.py"


def test_tiny_pipeline_benchmark_prints_the_table():
    args = ["--tiny", "--steps", "8", "--warmup", "2", "--window", "4", "--rounds", "1", "--log-every", "2"]
    result = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300,
                            check=True)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("| workload | plain loop steps/s | train.py steps/s | ratio |")
    rows = {line.split("|")[1].strip(): line.split("|")[2:5] for line in lines[2:]}
    assert set(rows) == {"regress", "charlm"}
    for plain, train, ratio in rows.values():
        assert float(plain) > 0 and float(train) > 0
        assert abs(float(ratio.strip().rstrip("x")) - float(train) / float(plain)) < 0.01


def test_bad_window_is_refused():
    result = subprocess.run([sys.executable, str(SCRIPT), "--steps", "4", "--warmup", "2", "--window", "5"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--window" in result.stderr
