"""Safe output files for the CLI: never over an input, never over existing files without ``--force``,
checked before the work starts, and written under a temporary name that is renamed when complete, so a
failure (or an interrupt) leaves nothing partial behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


_STAGED: set[Path] = set()  # temporary files and folders being written (removed on an interrupt)


def remove_staged() -> None:
    """Remove every temporary output still being written (called when the program is interrupted)."""
    for p in list(_STAGED):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


class OutputError(ValueError):
    """An output that must not or cannot be written (one clear message)."""


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _writable_ancestor(path: Path) -> Path:
    """The nearest existing ancestor of ``path`` (the folder that must let us create it)."""
    p = path.resolve().parent
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_file(path: Path, option: str, inputs: list[Path], force: bool) -> None:
    """Refuse an output file that is an input, exists (without ``force``) or cannot be written."""
    for inp in inputs:
        if _same(path, inp):
            raise OutputError(f"{option} {path}: that is an input file; choose another name")
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a folder; give a file name")
    if path.exists() and not force:
        raise OutputError(f"{option} {path}: the file exists; pass --force to overwrite it")
    _check_writable(path, option)


def check_dir(path: Path, option: str, inputs: list[Path], force: bool) -> None:
    """Refuse an output folder that is a file, holds files already (without ``force``) or cannot be written."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path}: is a file; give a folder")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise OutputError(f"{option} {path}: the folder is not empty; pass --force to write into it "
                          "(files of the same name are replaced)")
    for inp in inputs:
        if _same(path, inp):
            raise OutputError(f"{option} {path}: that is an input; choose another folder")
    _check_writable(path / "x", option)


def _check_writable(path: Path, option: str) -> None:
    if path.parent.exists():
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise OutputError(f"{option} {path}: no permission to write in {path.parent}")
        return
    anc = _writable_ancestor(path)
    if not os.access(anc, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: cannot create folders in {anc} (no permission)")


@contextmanager
def staged_file(path: Path, inputs: list[Path] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without error it is renamed to ``path``
    (atomically), otherwise removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    _STAGED.add(tmp_path)
    try:
        yield tmp_path
        for inp in inputs:
            if _same(path, inp):
                raise OutputError(f"{path}: that is an input file; nothing was written")
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
        _STAGED.discard(tmp_path)


@contextmanager
def staged_dir(path: Path, inputs: list[Path] = ()) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; when the block ends without error, every file written in
    it is moved into ``path`` (created if needed), otherwise the temporary folder is removed. A file that
    would land on an input is refused before anything is moved."""
    parent = path.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=parent))
    _STAGED.add(tmp)
    try:
        yield tmp
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        for f in files:
            dest = path / f.relative_to(tmp)
            if any(_same(dest, inp) for inp in inputs):
                raise OutputError(f"{dest}: that is an input file; nothing was written")
        path.mkdir(parents=True, exist_ok=True)
        for f in files:
            dest = path / f.relative_to(tmp)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        _STAGED.discard(tmp)


class ParquetLog:
    """Call logs written to one Parquet file as replications arrive, in replication order (a log that comes
    early waits for the ones before it), so memory holds a few logs, not all. ``sample`` keeps the first
    replications' logs, up to ``sample_rows`` rows, for charts."""

    def __init__(self, path: Path, sample_rows: int = 2_000_000) -> None:
        self.path = path
        self.writer = None
        self.next = 0
        self.waiting: dict[int, "object"] = {}
        self.sample: list = []
        self.sample_rows = sample_rows
        self._kept = 0

    def __call__(self, replication: int, log) -> None:
        self.waiting[replication] = log
        while self.next in self.waiting:
            self._write(self.waiting.pop(self.next))
            self.next += 1

    def _write(self, log) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(log, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table)
        if self._kept + len(log) <= self.sample_rows or not self.sample:
            self.sample.append(log)
            self._kept += len(log)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
