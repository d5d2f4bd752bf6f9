"""Safe output files for the CLI: never over an input, never over existing files without ``--force``,
checked before the work starts, and written under a temporary name that is renamed when complete, so a
failure (or an interrupt) leaves nothing partial behind.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


_STAGED: set[Path] = set()  # temporary files and folders being written (removed on an interrupt)
_MAY_REPLACE: set[Path] = set()  # outputs checked with --force: only these may replace an existing file
# errors of the place being written (a full disk, a read-only or vanished folder): one message, not a traceback
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.ENOENT,
                 errno.EIO, errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR, errno.EXDEV, errno.EMLINK}


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


def _kind(path: Path) -> str | None:
    """What stands at ``path`` if it is not something an output may replace: a link, device, FIFO or socket
    (``None`` for nothing there or a regular file)."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return {stat.S_ISFIFO(mode): "a FIFO (named pipe)", stat.S_ISCHR(mode): "a character device",
            stat.S_ISBLK(mode): "a block device", stat.S_ISSOCK(mode): "a socket"}.get(True, "not a regular file")


def check_file(path: Path, option: str, inputs: list[Path], force: bool) -> None:
    """Refuse an output file that is an input, exists (without ``force``), is not a regular file (a link, a
    device or a FIFO, even with ``force``) or cannot be written. With ``force`` the later commit may replace
    an existing regular file; without it, it must still be absent then (so of two runs racing for one name,
    one writes and the other says so)."""
    for inp in inputs:
        if _same(path, inp):
            raise OutputError(f"{option} {path}: that is an input file; choose another name")
    kind = _kind(path)
    if kind is not None:
        raise OutputError(f"{option} {path}: is {kind}; outputs are written only as regular files")
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a folder; give a file name")
    if path.exists() and not force:
        raise OutputError(f"{option} {path}: the file exists; pass --force to overwrite it")
    _check_writable(path.parent, option, path)
    if force:
        _MAY_REPLACE.add(path.absolute())


def check_dir(path: Path, option: str, inputs: list[Path], force: bool) -> None:
    """Refuse an output folder that is a file, holds files already (without ``force``) or cannot be written."""
    kind = _kind(path)
    if kind is not None and not (kind == "a symbolic link" and path.is_dir()):
        raise OutputError(f"{option} {path}: is {kind}; give a folder")
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path}: is a file; give a folder")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise OutputError(f"{option} {path}: the folder is not empty; pass --force to write into it "
                          "(files of the same name are replaced)")
    for inp in inputs:
        if _same(path, inp):
            raise OutputError(f"{option} {path}: that is an input; choose another folder")
    _check_writable(path, option, path)
    if force:
        _MAY_REPLACE.add(path.absolute())


def _check_writable(folder: Path, option: str, path: Path) -> None:
    """``folder`` must exist and be writable, or its nearest existing ancestor must let us create it."""
    if folder.is_dir():
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputError(f"{option} {path}: no permission to write in {folder}")
        return
    anc = _writable_ancestor(folder / "x")
    if not anc.is_dir():
        raise OutputError(f"{option} {path}: {anc} is a file, so no folder can be made inside it")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: cannot create folders in {anc} (no permission)")


@functools.cache
def _file_mode() -> int:
    """The mode a new file gets from this process's umask (as ``open`` would give it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _commit(tmp: Path, dest: Path, may_replace: bool) -> None:
    """Move a finished temporary file to ``dest``: replacing a regular file only if ``may_replace``, never a
    link, device or FIFO that appeared meanwhile. The file keeps the mode an existing ``dest`` had, else the
    umask's."""
    kind = _kind(dest)
    if kind is not None:
        raise OutputError(f"{dest}: is {kind}; outputs are written only as regular files; nothing was written")
    try:
        mode = stat.S_IMODE(dest.stat().st_mode)
    except FileNotFoundError:
        mode = _file_mode()
    os.chmod(tmp, mode)
    if may_replace:
        os.replace(tmp, dest)
        return
    try:
        os.link(tmp, dest)  # atomic, and fails if dest exists: no other run's file is overwritten
    except FileExistsError:
        raise OutputError(f"{dest}: was written by something else while this ran (another run?); nothing was "
                          "written (pass --force to replace it)") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if dest.exists():  # a file system without hard links: check, then rename
            raise OutputError(f"{dest}: was written by something else while this ran; nothing was written") from None
        os.replace(tmp, dest)
        return
    tmp.unlink()


def _may_replace(path: Path) -> bool:
    return path.absolute() in _MAY_REPLACE


@contextmanager
def _write_errors(path: Path) -> Iterator[None]:
    """A full disk, a read-only file system or a lost permission while writing ``path``: one OutputError."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _WRITE_ERRNOS:
            raise
        where = exc.filename or path
        raise OutputError(f"{path}: cannot write ({exc.strerror}: {where}); nothing was written") from None


@contextmanager
def staged_file(path: Path, inputs: list[Path] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without error it is moved to ``path``
    (atomically: it replaces an existing file only if :func:`check_file` allowed it with ``--force``),
    otherwise removed. The file gets the umask's mode (or the replaced file's)."""
    with _write_errors(path):
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
            _commit(tmp_path, path, _may_replace(path))
        finally:
            tmp_path.unlink(missing_ok=True)
            _STAGED.discard(tmp_path)


@contextmanager
def staged_dir(path: Path, inputs: list[Path] = ()) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; when the block ends without error, every file written in
    it is moved into ``path`` (created if needed), otherwise the temporary folder is removed. A file that
    would land on an input, on a link or device, or (without ``--force``) on a file that appeared meanwhile
    is refused before anything is moved."""
    with _write_errors(path):
        parent = path.resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=parent))
        _STAGED.add(tmp)
        try:
            yield tmp
            files = sorted(p for p in tmp.rglob("*") if p.is_file())
            may_replace = _may_replace(path)
            for f in files:
                dest = path / f.relative_to(tmp)
                if any(_same(dest, inp) for inp in inputs):
                    raise OutputError(f"{dest}: that is an input file; nothing was written")
                kind = _kind(dest)
                if kind is not None:
                    raise OutputError(f"{dest}: is {kind}; outputs are written only as regular files; nothing "
                                      "was written")
                if dest.exists() and not may_replace:
                    raise OutputError(f"{dest}: was written by something else while this ran (another run?); "
                                      "nothing was written (pass --force to replace it)")
            path.mkdir(parents=True, exist_ok=True)
            for f in files:
                dest = path / f.relative_to(tmp)
                dest.parent.mkdir(parents=True, exist_ok=True)
                _commit(f, dest, may_replace)
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


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


def _defuse(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell and column name that a spreadsheet would run as a formula (starting with
    =, +, -, @, tab or CR: a group named ``=HYPERLINK(...)``) prefixed with ``'``, as OWASP advises for CSV
    exports. Numbers, negative ones included, are left as they are."""
    out = df.rename(columns=_defuse)
    for col in out.columns:
        c = out[col]
        if isinstance(c.dtype, pd.CategoricalDtype):
            out[col] = c.cat.rename_categories(_defuse) if any(map(_defused, c.cat.categories)) else c
        elif c.dtype == object or isinstance(c.dtype, pd.StringDtype):
            bad = [v for v in pd.unique(c) if _defused(v)]  # a call log has millions of cells, a few names
            if bad:
                out[col] = c.map(_defuse)
    return out


def _defused(value: object) -> bool:
    return _defuse(value) is not value


def csv_text(df: pd.DataFrame) -> str:
    """The CSV text of a table, safe to open in a spreadsheet (see :func:`spreadsheet_safe`)."""
    return spreadsheet_safe(df).to_csv(index=False)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV, safe to open in a spreadsheet (see :func:`spreadsheet_safe`)."""
    spreadsheet_safe(df).to_csv(path, index=False)
