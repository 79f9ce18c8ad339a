"""The first use of seqlab's C++ kernel says so: one line with the build time and the cache folder; a
process that finds the library cached prints nothing. torch's compiler call is replaced by a stand-in that
writes the library file (the real build takes 15-30 s and is covered by the kernel tests)."""

from __future__ import annotations

import re

import pytest

from seqlab.kernels import build


@pytest.fixture
def fresh_build(monkeypatch, tmp_path):
    """No kernel loaded in this process, an empty extensions folder, and a fake `cpp_extension.load`."""
    from torch.utils import cpp_extension

    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    monkeypatch.delenv(build.DISABLE_VARIABLE, raising=False)
    monkeypatch.setattr(build, "_registered", lambda: False)
    calls = []

    def fake_load(name, **kwargs):
        calls.append(name)
        (tmp_path / name).mkdir(exist_ok=True)
        (tmp_path / name / f"{name}.so").write_bytes(b"")  # what a finished build leaves

    monkeypatch.setattr(cpp_extension, "load", fake_load)
    return tmp_path, calls


def test_first_build_prints_one_line_with_time_and_cache(fresh_build, capsys):
    cache, calls = fresh_build
    assert build._build_and_load() is True
    lines = capsys.readouterr().err.strip().splitlines()
    name = build.extension_name()
    assert calls == [name] and len(lines) == 1
    assert re.fullmatch(rf"seqlab: compiled its C\+\+ LSTM kernel in \d+\.\d s \(first use only; cached in "
                        rf"{re.escape(str(cache / name))}\)", lines[0]), lines[0]


def test_a_cached_library_loads_silently(fresh_build, capsys):
    cache, calls = fresh_build
    build._build_and_load()
    capsys.readouterr()
    assert build._build_and_load() is True  # the .so is in the cache now
    assert capsys.readouterr().err == "" and len(calls) == 2
