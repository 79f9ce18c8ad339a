"""Checkpoints that claim more than they hold (issue 20, "Size checks that see the real size"): each crafted
in the test from a real tiny checkpoint or with `torch.save`, each refused in one line before any large
allocation, and nothing else about a genuine checkpoint changes.
"""

from __future__ import annotations

import resource
import zipfile
from pathlib import Path

import pytest
import torch
from tiny_task_checkpoints import tiny_checkpoints

from seqlab.reliability.checkpoint_bounds import overlaps
from seqlab.reliability.safe_load import CheckpointLoadError, load_checkpoint
from seqlab.reliability.stored_values import check_sizes
from seqlab.reliability.task_from_checkpoint import load_task
from seqlab.tasks.beam_search import check_decoding


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    return tiny_checkpoints(tmp_path_factory.mktemp("tasks"))


def rewrite(source: Path, target: Path, change) -> Path:
    """`target`: the checkpoint `source` with `change(checkpoint)` applied (plain torch.save)."""
    checkpoint = torch.load(source, weights_only=False)
    change(checkpoint)
    torch.save(checkpoint, target)
    return target


def head_weight(checkpoint: dict) -> str:
    return next(name for name in checkpoint["state_dict"] if name.endswith("weight"))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_expanded_weight_claiming_a_huge_width_is_refused(checkpoints, tmp_path):
    """A stride-0 weight: a few bytes of storage claiming (5000, 5000); refused before the model is built."""

    def expand(checkpoint):
        name = head_weight(checkpoint)
        checkpoint["state_dict"][name] = torch.zeros(1).expand(5000, 5000)

    crafted = rewrite(checkpoints["regress"], tmp_path / "expanded.ckpt", expand)
    assert crafted.stat().st_size < 100_000
    before = peak_rss_mb()
    with pytest.raises(CheckpointLoadError, match=r"shape \(5000, 5000\) with strides \(0, 0\) reuses its "
                                                  r"storage \(4 bytes for 25000000 elements"):
        load_task(crafted)
    assert peak_rss_mb() - before < 50  # 5000 x 5000 float32 would be 100 MB


@pytest.mark.parametrize(("tensor", "message"), [
    (torch.zeros(3, 1).expand(3, 4), r"shape \(3, 4\) with strides \(1, 0\) reuses its storage"),
    (torch.zeros(4).as_strided((3, 2), (1, 1)), r"shape \(3, 2\) with strides \(1, 1\) reuses its storage"),
    (torch.eye(3).to_sparse(), r"a sparse_coo tensor; seqlab checkpoints hold dense"),
    (torch.zeros(3, device="meta"), r"a meta-device tensor"),
    (torch.zeros(3, dtype=torch.complex64), r"a complex tensor"),
], ids=["expand", "overlapping-strides", "sparse", "meta", "complex"])
def test_tensors_that_are_not_plain_dense_data_are_refused(tmp_path, tensor, message):
    torch.save({"state_dict": {"w": tensor}}, tmp_path / "crafted.ckpt")
    with pytest.raises(CheckpointLoadError, match=r"checkpoint\['state_dict'\]\['w'\]: " + message):
        load_checkpoint(tmp_path / "crafted.ckpt")


def distinct_offsets(shape, strides) -> int:
    grid = torch.cartesian_prod(*[torch.arange(n) for n in shape]).view(-1, len(shape))  # (numel, D)
    return len(set((grid * torch.tensor(strides)).sum(-1).tolist()))


def test_overlap_check_never_passes_an_overlapping_layout_and_passes_torchs_own():
    """Sound (a layout it passes has distinct offsets, by brute force), and it passes every layout torch
    makes by contiguous storage, transposes, permutes and slices. It may refuse an exotic non-overlapping
    as_strided view ((3, 3) with strides (3, 2)): no checkpoint of torch.save's holds one."""
    for shape, strides in [((3, 4), (4, 1)), ((3, 4), (1, 3)), ((3, 4), (2, 1)), ((2, 3, 2), (6, 2, 1)),
                           ((2, 3, 2), (1, 2, 6)), ((4,), (0,)), ((1, 5), (0, 1)), ((3, 3), (3, 2)),
                           ((2, 2, 2), (4, 1, 1)), ((5, 2), (1, 4))]:
        t = torch.zeros(64).as_strided(shape, strides)
        if not overlaps(t):
            assert distinct_offsets(shape, strides) == t.numel(), (shape, strides)
        if distinct_offsets(shape, strides) < t.numel():
            assert overlaps(t), (shape, strides)
    base = torch.zeros(4, 5, 6)
    for view in (base, base.transpose(0, 2), base.permute(1, 2, 0), base[:, 1:3, ::2], base[1],
                 base[..., 0].t()):
        assert not overlaps(view)


def test_zip_bomb_is_refused_before_torch_reads_it(tmp_path):
    genuine = tmp_path / "genuine.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(3)}}, genuine)
    bomb = tmp_path / "bomb.ckpt"
    with zipfile.ZipFile(genuine) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for record in source.infolist():
            target.writestr(record.filename, source.read(record))
        target.writestr("genuine/data/7", bytes(50_000_000))  # 50 MB of zeros deflate to ~50 KB
    assert bomb.stat().st_size < 1_000_000
    before = peak_rss_mb()
    with pytest.raises(CheckpointLoadError, match=r"its records claim \d+ bytes uncompressed \(genuine/data/"
                                                  r"7: 50000000\), more than the file's \d+ bytes"):
        load_checkpoint(bomb)
    assert peak_rss_mb() - before < 100


def test_legacy_format_is_one_line(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "legacy.ckpt", _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointLoadError, match=r"not a zip archive \(\d+ bytes\); seqlab reads "
                                                  r"checkpoints in torch's zip format only"):
        load_checkpoint(tmp_path / "legacy.ckpt")


@pytest.mark.parametrize("depth", [5_000, pytest.param(200_000, marks=pytest.mark.slow)])
def test_deep_nesting_is_one_line(tmp_path, depth):
    """Deeper than Python's recursion limit (5,000) and the issue's 200,000 levels (slow: torch's unpickler
    takes seconds)."""
    torch.save({"state_dict": {}, "deep": []}, tmp_path / "shallow.ckpt")
    # pickle opcodes: push `depth` empty lists, then append each into the one below
    pickle_bytes = (b"\x80\x02}(X\n\x00\x00\x00state_dict}X\x04\x00\x00\x00deep" + b"]" * depth
                    + b"a" * (depth - 1) + b"u.")
    deep = tmp_path / "deep.ckpt"
    with zipfile.ZipFile(tmp_path / "shallow.ckpt") as source, zipfile.ZipFile(deep, "w") as target:
        for record in source.infolist():
            data = pickle_bytes if record.filename.endswith("/data.pkl") else source.read(record)
            target.writestr(record.filename, data)
    with pytest.raises(CheckpointLoadError, match=r"checkpoint\['deep'\]\S*: nested deeper than 64 levels"):
        load_checkpoint(deep)


@pytest.mark.parametrize(("value", "message"), [
    (lambda w: w.double() * 1e300, r"\(torch.float64\) is not finite once cast to the model's torch.float32"),
    (lambda w: w.long(), r"is stored as torch.int64; the model's is torch.float32 \(floating point\)"),
    (lambda w: w.bool(), r"is stored as torch.bool; the model's is torch.float32"),
], ids=["float64-1e300", "int64", "bool"])
def test_weights_must_have_the_models_dtype_and_stay_finite(checkpoints, tmp_path, value, message):
    def change(checkpoint):
        name = head_weight(checkpoint)
        checkpoint["state_dict"][name] = value(checkpoint["state_dict"][name])

    crafted = rewrite(checkpoints["classify"], tmp_path / "dtype.ckpt", change)
    with pytest.raises(ValueError, match=r"ckpt_path=\S+: weight \S+ " + message):
        load_task(crafted)


def test_decoding_work_is_bounded_with_the_bound_in_the_error(checkpoints, tmp_path):
    with pytest.raises(ValueError, match=r"^beam_width=1024 is over seqlab's bound of 256 on decoding work$"):
        check_decoding(1024, 10)
    with pytest.raises(ValueError, match=r"beam_width x max_length = 100 x 10000 = 1000000 hypothesis steps "
                                         r"per sequence, over seqlab's bound of 100000"):
        check_decoding(100, 10_000)
    with pytest.raises(ValueError, match=r"max_length=100000 is out of range: at most 10000"):
        check_sizes({"max_length": 100_000}, {"w": torch.zeros(2)}, "hyper_parameters")

    def greedy_beyond(checkpoint):
        checkpoint["hyper_parameters"]["beam_width"] = 1024
        checkpoint["hyper_parameters"]["max_length"] = 100_000

    crafted = rewrite(checkpoints["seq2seq"], tmp_path / "beam.ckpt", greedy_beyond)
    with pytest.raises(ValueError, match=r"hyper_parameters.beam_width=1024 is out of range: at most 256"):
        load_task(crafted)


def test_genuine_checkpoints_of_every_task_still_load(checkpoints):
    for task, path in checkpoints.items():
        model, run = load_task(path)
        assert run["task_name"] == task and sum(p.numel() for p in model.parameters()) > 0


@pytest.mark.slow  # real subprocesses: seconds of imports each
@pytest.mark.parametrize("script", ["eval.py", "generate.py"])
def test_crafted_checkpoint_through_the_real_command_is_one_line(checkpoints, tmp_path, script):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
    from cli_helpers import run_cli

    def expand(checkpoint):
        checkpoint["state_dict"][head_weight(checkpoint)] = torch.zeros(1).expand(5000, 5000)

    crafted = rewrite(checkpoints["charlm"], tmp_path / "expanded.ckpt", expand)
    result = run_cli(script, [f"ckpt_path={crafted}"], cwd=tmp_path)
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert result.returncode == 1 and "Traceback" not in result.stderr and len(errors) == 1, result.stderr
    assert "reuses its storage" in errors[0] and str(crafted) in errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["expanded.ckpt"]
