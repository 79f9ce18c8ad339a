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
                          "MGU L1", "dilated LSTM L1 d=4"):
        assert any(line.startswith(configuration + " ") for line in lines), configuration
    reference_rows = [line for line in lines if "torch.nn.LSTM" in line]
    assert reference_rows and all(line.split()[-2:] == ["1.00", "1.00"] for line in reference_rows)
