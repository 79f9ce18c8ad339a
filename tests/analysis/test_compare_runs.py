"""scripts/compare_runs.py: one HTML page from two tiny real runs (an LSTM and a GRU char-LM, trained here
with the diagnostics on), with both runs, their metrics, config differences and embedded images; strings
from a run folder escaped; only --out written, never over an existing file without --overwrite."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_helpers import TINY, compose_config  # noqa: E402

from seqlab.analysis.compare_page import metrics_table  # noqa: E402
from seqlab.analysis.compare_runs import main  # noqa: E402
from seqlab.analysis.run_record import RunRecord  # noqa: E402
from seqlab.cli.train import train  # noqa: E402

SHORT = ["trainer.max_steps=6", "trainer.val_check_interval=3", "trainer.limit_val_batches=2",
         "trainer.log_every_n_steps=1", "trainer.num_sanity_val_steps=0", "callbacks=diagnostics"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("runs")
    corpus = root / "corpus.txt"
    corpus.write_text("the quick brown fox jumps over the lazy dog.\n" * 80, encoding="utf-8")
    runs = []
    for cell in ("lstm", "gru"):
        folder = root / f"{cell}_run"
        train(compose_config("train", ["dataset=textfile", f"dataset.path={corpus}", f"cell={cell}",
                                       *TINY, *SHORT], folder))
        runs.append(folder)
    return runs


def embedded_pngs(page: str) -> list[bytes]:
    found = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    return [base64.b64decode(data) for data in found]


def test_page_has_both_runs_metrics_config_differences_and_images(two_runs, tmp_path, capsys):
    lstm, gru = two_runs
    assert {p.name for p in (lstm / "figures").glob("*.png")} == {
        "grad_flow_heatmap.png", "grad_flow_norm_vs_t.png", "gates_saturation.png"}
    out = tmp_path / "compare.html"
    assert main([str(lstm), str(gru), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"compare_runs: wrote {out} (2 runs)"
    page = out.read_text(encoding="utf-8")
    assert "<th>lstm_run</th>" in page and "<th>gru_run</th>" in page
    assert "<th>val/loss ↓</th>" in page  # the final-metrics table, lower is better
    bold_rows = [row for row in page.split("<tr>") if "<b>" in row]
    assert bold_rows and all(row.count("<b>") == 1 and ("↓" in row or "↑" in row) for row in bold_rows)
    config_section = page[page.index("<h2>Config differences</h2>"):page.index("<h2>Diagnostics</h2>")]
    assert "<th>cell.cell</th><td>&#x27;lstm&#x27;</td><td>&#x27;gru&#x27;</td>" in config_section
    assert config_section.count("<tr>") == 2  # the header and cell: a run's own folder is no difference
    assert "paths." not in config_section
    images = embedded_pngs(page)
    assert len(images) == 1 + 2 * 3  # the learning curves, then three figures of each run
    assert all(png.startswith(b"\x89PNG") for png in images)
    assert images[1] == (lstm / "figures" / "grad_flow_heatmap.png").read_bytes()  # heatmap row first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compare.html"]  # nothing else written


def test_strings_from_a_run_folder_are_escaped(two_runs, tmp_path):
    hostile = tmp_path / "<b>run"
    shutil.copytree(two_runs[0], hostile)
    config = yaml.safe_load((hostile / "config.yaml").read_text())
    config["tags"] = ["<script>alert(1)</script>"]
    config["<img src=x onerror=alert(2)>"] = 1
    (hostile / "config.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "page.html"
    assert main([str(hostile), str(two_runs[1]), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page and "<img src=x" not in page and "<b>run" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;run" in page


def test_refuses_to_overwrite_and_bad_folders_in_one_line(two_runs, tmp_path, capsys):
    out = tmp_path / "compare.html"
    out.write_text("someone's page")
    assert main([str(two_runs[0]), "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"compare_runs: --out {out} exists; pass --overwrite to replace it\n"
    assert out.read_text() == "someone's page"
    assert main([str(two_runs[0]), "--out", str(out), "--overwrite"]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "new.html")]) == 2
    assert capsys.readouterr().err.endswith(f"compare_runs: {tmp_path / 'nowhere'}: no such folder\n")
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "--out", str(tmp_path / "new.html")]) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert not (tmp_path / "new.html").exists()


def test_older_runs_fall_back_to_event_images_and_csv_metrics(two_runs, tmp_path):
    no_pngs, csv_only = tmp_path / "no_pngs", tmp_path / "csv_only"
    shutil.copytree(two_runs[0], no_pngs)
    shutil.rmtree(no_pngs / "figures")
    (csv_only / "csv").mkdir(parents=True)
    (csv_only / "csv" / "metrics.csv").write_text("epoch,step,val/loss,train/loss\n0,3,2.5,\n0,3,,2.7\n"
                                                  "0,6,2.25,nan\n")
    out = tmp_path / "page.html"
    assert main([str(no_pngs), str(csv_only), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    images = embedded_pngs(page)
    with open(two_runs[0] / "figures" / "grad_flow_heatmap.png", "rb") as saved:
        heatmap = saved.read()
    assert heatmap in images  # the same drawing, read back from the TensorBoard events
    assert "2.25 (best 2.25)" in page  # the CSV run's val/loss
    assert len(images) == 1 + 3  # curves, and the first run's three figures; the CSV run has none


def test_metrics_table_bolds_the_best_finite_value_by_the_metric_direction():
    diverged = RunRecord("a", Path("a"), scalars={"val/loss": [(1, 2.0), (2, float("nan"))],
                                                  "val/acc": [(1, 0.5), (2, 0.75)], "train/time": [(2, 9.0)]})
    steady = RunRecord("b", Path("b"), scalars={"val/loss": [(1, 1.5), (2, 1.2)], "val/acc": [(2, 0.6)],
                                                "train/time": [(2, 3.0)]})
    rows = metrics_table([diverged, steady], ["val/acc", "val/loss", "train/time"]).split("<tr>")[2:]
    assert rows[0] == ("<th>val/acc ↑</th><td class=num><b>0.75 (best 0.75)</b></td>"
                       "<td class=num>0.6 (best 0.6)</td></tr>")
    assert rows[1] == ("<th>val/loss ↓</th><td class=num>nan (best 2)</td>"
                       "<td class=num><b>1.2 (best 1.2)</b></td></tr>")
    assert rows[2] == "<th>train/time</th><td class=num>9</td><td class=num>3</td></tr></table>"


@pytest.mark.slow
def test_page_renders_in_headless_chromium(two_runs, tmp_path):
    """Run: `.venv/bin/python -m pytest -m slow tests/analysis/test_compare_runs.py` (needs `chromium`)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no chromium on PATH (apt-get install -y chromium)")
    from PIL import Image

    out, shot = tmp_path / "compare.html", tmp_path / "screenshot.png"
    assert main([str(p) for p in two_runs] + ["--out", str(out)]) == 0
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1400,2400", out.as_uri()], check=True, capture_output=True, timeout=120)
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24)
    assert len(colours) > 100  # text, tables and figures, not a blank page
