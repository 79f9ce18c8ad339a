"""scripts/bench.py runs end to end (`--quick`) and prints its comparison table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench.py"


def test_quick_benchmark_prints_the_table():
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--threads", "1"], capture_output=True,
                            text=True, timeout=300, check=True)
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("configuration"))
    for column in ("fwd ms", "fwd+bwd ms", "mem MiB", "fwd+bwd x"):
        assert column in header
    for configuration in ("LSTM L1", "GRU L2", "RNN L1", "LSTM L2 bi", "peephole LSTM L1", "CIFG LSTM L1",
                          "MGU L1", "dilated LSTM L4", "dilated GRU L4", "scan minGRU T16 B2",
                          "scan minLSTM T16 B2"):
        assert any(line.startswith(configuration + " ") for line in lines), configuration
    reference_rows = [line for line in lines if "torch.nn.LSTM" in line]
    assert reference_rows and all(line.split()[-2:] == ["1.00", "1.00"] for line in reference_rows)


def test_only_selects_configurations_and_rejects_unknown_words():
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--threads", "1", "--only", "mgu"],
                            capture_output=True, text=True, timeout=300, check=True)
    rows = [line for line in result.stdout.splitlines() if line.startswith(("MGU", "LSTM", "dilated"))]
    assert rows and all(line.startswith("MGU L1") for line in rows)
    refused = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--only", "nosuch"],
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "names no configuration" in refused.stderr


def test_charlm_throughput_benchmark_reports_both_backends():
    script = SCRIPT.with_name("bench_charlm.py")
    result = subprocess.run([sys.executable, str(script), "--steps", "4", "--window", "2", "--rounds", "1",
                             "--threads", "1", "cell.hidden_size=16", "dataset.seq_len=20",
                             "dataset.batch_size=4"],
                            capture_output=True, text=True, timeout=300, check=True)
    rates = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if words[:2] in (["seqlab", "custom"], ["torch", "fused"]):
            rates[words[0]] = float(words[2])
    assert set(rates) == {"seqlab", "torch"} and all(rate > 0 for rate in rates.values())
    assert "ratio custom/torch" in result.stdout


def test_diagnostics_overhead_benchmark_reports_the_share_and_that_the_callbacks_ran():
    script = SCRIPT.with_name("bench_diagnostics.py")
    result = subprocess.run([sys.executable, str(script), "--epochs", "1", "--batches", "4"],
                            capture_output=True, text=True, timeout=300, check=True)
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("fit ") and "1 thread(s)" in line and "over training (target < 10%)" in line
    assert line.endswith("callbacks recorded: True")
