"""seqlab's one downloader: a file fetched once into the cache, checked against its sha256 (pooch).

Every dataset that downloads goes through `fetch` (one file, e.g. tinyshakespeare) or `fetch_archive` (a zip
whose members are extracted, e.g. a UEA/UCR problem). The cache is `cache_dir` when given (the configs pass
`paths.cache_dir`), else `$SEQLAB_CACHE`, else `~/.cache/seqlab`. A file already in the cache with the right
checksum is used as it is; a download whose checksum differs is refused (pooch deletes it) with one line
naming the file, both checksums and `dataset.path=` as the way round. `DOWNLOADER` is pooch's HTTP downloader;
tests replace it with a local copy, so nothing downloads at test time.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pooch


def DOWNLOADER(url: str, output_file: str, pooch_object: object) -> None:  # noqa: N802 (swappable hook)
    """Fetch `url` into `output_file` (pooch's HTTP downloader, no progress bar)."""
    pooch.HTTPDownloader(progressbar=False, timeout=60)(url, output_file, pooch_object)


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The cache folder: `cache_dir`, else `$SEQLAB_CACHE`, else `~/.cache/seqlab`."""
    root = cache_dir or os.environ.get("SEQLAB_CACHE") or Path.home() / ".cache" / "seqlab"
    return Path(root).expanduser()


def sha256_of(file: str | Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(file: str | Path, expected: str | None, what: str) -> None:
    """Raise ValueError naming `what` when `file`'s sha256 is not `expected` (None: not checked)."""
    if expected is None:
        return
    digest = sha256_of(file)
    if digest != expected.lower():
        raise ValueError(f"{what}={file}: sha256 {digest} does not match the expected {expected}")


def _retrieve(url: str, known_hash: str | None, folder: Path, fname: str, processor=None):
    try:
        return pooch.retrieve(url, known_hash=f"sha256:{known_hash}" if known_hash else None, fname=fname,
                              path=folder, processor=processor, downloader=DOWNLOADER, progressbar=False)
    except ValueError as err:
        if "hash" not in str(err).lower():
            raise
        raise ValueError(f"download of {url} refused: its sha256 is not the expected {known_hash} "
                         "(a changed or broken file); nothing was kept. Fetch it yourself and pass "
                         "dataset.path=<file or folder>") from None
    except OSError as err:
        raise OSError(f"could not download {url} ({' '.join(str(err).split())}); download it yourself "
                      "and pass dataset.path=<file or folder>") from None


def fetch(url: str, sha256: str, cache_dir: str | Path | None, relative: str) -> Path:
    """The cached copy `<cache>/<relative>` of `url`, downloaded first if absent; its sha256 is checked."""
    target = cache_root(cache_dir) / relative
    return Path(_retrieve(url, sha256, target.parent, target.name))


def fetch_archive(url: str, cache_dir: str | Path | None, relative: str, members: dict[str, str | None],
                  archive_sha256: str | None = None) -> dict[str, Path]:
    """Files `members` (name -> sha256 or None) of the zip at `url`, extracted into `<cache>/<relative>/`.

    Members already extracted there are used without a download; each one is checked against its sha256.
    """
    folder = cache_root(cache_dir) / relative
    found = {name: folder / name for name in members}
    if not all(path.is_file() for path in found.values()):
        extracted = _retrieve(url, archive_sha256, folder.parent, f"{folder.name}.zip",
                              processor=pooch.Unzip(extract_dir=folder.name))
        by_name = {Path(p).name: Path(p) for p in extracted}
        missing = [name for name in members if name not in by_name]
        if missing:
            raise ValueError(f"{url}: the archive holds no {', '.join(missing)}")
        for name in members:
            if by_name[name] != found[name]:
                by_name[name].replace(found[name])  # members inside a subfolder move to the top
    for name, path in found.items():
        verify_sha256(path, members[name], "cached file")
    return found
