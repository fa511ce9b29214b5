"""Atomic file writing.

Every file is written under a temporary name in its target folder and then renamed onto the target in one step,
so a failure never leaves a half-written file behind.  A new file gets the usual mode (0666 less the umask), and an
existing output is replaced -- outputs are regenerated from their inputs, as a build tool does -- unless it is
read-only, which is refused.  :func:`staged_outputs` extends that to a whole run: every
output of the run is written under a temporary name first and all are renamed only when every one was written,
so a failure on any output (a missing folder, a full disk, bad data found in the last chunk) leaves none of them
behind (nor any folder it made).  The single-file writers (:func:`write_bytes`, :func:`write_table`, ...) refuse a
missing folder, naming it, as :func:`check_new_folder` refuses an output folder whose parent is missing.  A command
that computes for a while checks its outputs before any work: :func:`check_new_folder` (a whole output folder),
:func:`probe_output_folder` (a folder it writes into) and :func:`probe_output_file` (a single file) refuse, naming
the user's path, a place that cannot take files -- found by making and removing a temporary file or folder there,
since permissions alone do not tell (root, a read-only mount, ``/proc``).

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with staged_outputs() as stage:
...     _ = stage.text(folder / "a.txt", "one")
...     _ = stage.folder(folder / "b")
...     _ = stage.text(folder / "b" / "c.txt", "two")
>>> sorted(p.name for p in folder.rglob("*.txt"))
['a.txt', 'c.txt']
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .table_writer import table_suffix, write_frames

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PreviousOutput", "check_new_folder", "check_previous_output", "check_before_replace", "output_folder",
           "write_text", "write_bytes", "write_json", "write_table", "write_csv_chunks", "write_table_chunks",
           "staged_outputs", "Stage", "probe_output_folder", "probe_output_file", "named_errors"]


class Stage:
    """Outputs written under temporary names, renamed onto their targets by :meth:`commit` or removed by
    :meth:`abort` (see :func:`staged_outputs`)."""

    def __init__(self, make_folders: bool = True) -> None:
        self.make_folders = make_folders
        self._pending: list[tuple[str, Path]] = []
        self._made: list[Path] = []

    def reserve(self, path: str | os.PathLike) -> str:
        """A new empty temporary file next to ``path``, renamed onto ``path`` on commit.  The folder of ``path`` must
    exist (an error naming ``path`` and the folder otherwise, as for an output folder whose parent is missing)
    unless the stage was made with ``make_folders``, which creates it (and removes it again on abort).  Any OS error
    names ``path``, never the temporary file."""
        path = Path(path)
        if any(dest == path for _, dest in self._pending):
            raise ValueError(f"{path} is written twice in one run")
        _check_file_target(path, self.make_folders)
        missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
        try:
            with named_errors(path):
                path.parent.mkdir(parents=True, exist_ok=True)
        finally:                                      # parents first, so abort removes children first
            self._made.extend(p for p in reversed(missing) if p.exists())
        try:                                          # an error names the user's file, not the temporary one
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except OSError as exc:
            raise _cannot_write(exc, path, path.parent) from None
        os.close(fd)
        self._pending.append((tmp, path))
        return tmp

    def folder(self, path: str | os.PathLike) -> Path:
        """Declare ``path`` an output folder of the run (a command's ``--out FOLDER``): made now when missing --
        its parent must exist, as for :func:`check_new_folder` -- and removed again on abort; files reserved in
        it then need no ``make_folders``."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(20, "exists and is not a folder", str(path))
        if not path.exists():
            if not path.parent.is_dir():
                raise FileNotFoundError(2, f"the folder {path.parent} does not exist; create it first or choose "
                                           f"another path", str(path))
            try:
                path.mkdir()
            except FileExistsError:
                raise
            except OSError as exc:
                raise _cannot_write(exc, path, path.parent) from None
            self._made.append(path)
        return path

    def bytes(self, path: str | os.PathLike, data: bytes) -> Path:
        tmp = self.reserve(path)
        with named_errors(path):
            with open(tmp, "wb") as fh:
                fh.write(data)
        return Path(path)

    def text(self, path: str | os.PathLike, text: str) -> Path:
        return self.bytes(path, text.encode("utf-8"))

    def table(self, path: str | os.PathLike, table: pd.DataFrame) -> Path:
        """A table as CSV (pandas' formatting), Parquet or JSON records, by the suffix of ``path``."""
        suffix = table_suffix(path, (".csv", ".parquet", ".json"))
        if suffix == ".csv":
            return self.text(path, table.to_csv(index=False))
        if suffix == ".json":
            return self.text(path, table.to_json(orient="records", indent=2))
        return self.table_chunks(path, [table])

    def table_chunks(self, path: str | os.PathLike, tables) -> Path:
        """An iterable of tables with the same columns as one CSV or Parquet table, written as they come (see
        :mod:`adcbridge.io.table_writer` for the CSV conventions)."""
        suffix = table_suffix(path)
        tmp = self.reserve(path)
        with named_errors(path):
            write_frames(tmp, tables, suffix)
        return Path(path)

    def commit(self) -> None:
        mode = 0o666 & ~_umask()                      # a new file gets the mode any other program would give it
        for tmp, dest in self._pending:
            os.chmod(tmp, mode)
            os.replace(tmp, dest)
        self._pending.clear()
        self._made.clear()

    def abort(self) -> None:
        for tmp, _ in self._pending:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        for folder in reversed(self._made):           # children before parents
            try:
                folder.rmdir()
            except OSError:
                pass
        self._pending.clear()
        self._made.clear()


def _check_file_target(path: Path, make_folders: bool = False) -> None:
    """The checks :meth:`Stage.reserve` makes before it writes ``path``: not a folder, not an existing read-only
    file, no file in the place of its folder or of one above it, and -- unless ``make_folders`` -- its folder
    exists.  An OSError naming ``path`` (or the file in the way) otherwise."""
    if path.is_dir():
        raise IsADirectoryError(21, "is a folder, not a file", str(path))
    if path.exists() and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
        raise PermissionError(13, "exists and is read-only (not replaced)", str(path))
    blocking = next((p for p in (path.parent, *path.parent.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise NotADirectoryError(20, "is a file, so the folder for the output cannot be made", str(blocking))
    if not make_folders and not path.parent.is_dir():
        raise FileNotFoundError(2, f"the folder {path.parent} does not exist; create it first or choose another "
                                   f"path", str(path))


def _shown(folder: str | os.PathLike) -> str:
    return "the working folder" if str(folder) in ("", ".") else str(folder)


def _cannot_write_words(exc: OSError, folder: str | os.PathLike) -> str:
    """What an OS error making a file or folder in the existing ``folder`` means, in words: ``cannot write in
    /proc (it takes no new files)`` -- a virtual file system such as ``/proc`` answers "No such file or
    directory" for a folder that is there --, ``cannot write in /data (permission denied)``, ``(read-only file
    system)``."""
    if exc.errno == errno.ENOENT and Path(folder).is_dir():
        reason = "it takes no new files"
    else:
        text = exc.strerror or str(exc)
        reason = text[:1].lower() + text[1:]
    return f"cannot write in {_shown(folder)} ({reason})"


def _cannot_write(exc: OSError, path: str | os.PathLike, folder: str | os.PathLike) -> OSError:
    """``exc`` (making a file or folder in ``folder`` for the output ``path``) as an OSError naming ``path`` and
    saying what is wrong (:func:`_cannot_write_words`)."""
    return OSError(exc.errno, _cannot_write_words(exc, folder), str(path))


def _probe(folder: Path, path: str | os.PathLike, file: bool = False) -> None:
    """Make and remove an empty temporary folder (``file``: file) in the existing ``folder``; an OSError naming
    ``path`` (:func:`_cannot_write`) if that fails."""
    try:
        if file:
            fd, tmp = tempfile.mkstemp(prefix=".adcbridge-probe.", suffix=".tmp", dir=folder)
            os.close(fd)
            os.unlink(tmp)
        else:
            os.rmdir(tempfile.mkdtemp(prefix=".adcbridge-probe.", dir=folder))
    except OSError as exc:
        raise _cannot_write(exc, path, folder) from None


def probe_output_folder(folder: str | os.PathLike, parents: bool = False) -> None:
    """Check up front that ``folder`` -- an output folder that is written into, or made (:meth:`Stage.folder`) --
    can take files, by making and removing an empty temporary folder in it, or in its parent when it does not
    exist yet: a command about to compute for a while fails at once, with an OSError naming ``folder``, rather
    than at the end.  Refused too: a file in its place or in the place of a folder above it, and a missing parent
    (unless ``parents``, for a caller that makes the missing folders: then the nearest existing one is tried).

    >>> try:
    ...     probe_output_folder("no-such-folder/out")
    ... except FileNotFoundError as exc:
    ...     print(exc.filename, exc.strerror, sep=": ")
    no-such-folder/out: the folder no-such-folder does not exist; create it first or choose another path
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(20, "exists and is not a folder", str(folder))
    blocking = next((p for p in folder.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise NotADirectoryError(20, f"{blocking} is a file, so the output folder cannot be made", str(folder))
    if not parents and not folder.parent.is_dir():
        raise FileNotFoundError(2, f"the folder {folder.parent} does not exist; create it first or choose another "
                                   f"path", str(folder))
    where = next((p for p in (folder, *folder.parents) if p.is_dir()), Path("."))
    _probe(where, folder)


def probe_output_file(path: str | os.PathLike) -> None:
    """Check up front that the single output file ``path`` can be written (as :func:`write_bytes` and the
    other writers will, at the end): an OSError naming ``path`` when it is a folder, an existing read-only file,
    in a folder that does not exist (none is made for it) or has a file in its place, or in a folder that cannot
    take files (a temporary file made and removed there tells).

    >>> try:
    ...     probe_output_file("no-such-folder/figure.png")
    ... except FileNotFoundError as exc:
    ...     print(exc.filename, exc.strerror, sep=": ")
    no-such-folder/figure.png: the folder no-such-folder does not exist; create it first or choose another path
    """
    path = Path(path)
    _check_file_target(path)
    _probe(path.parent, path, file=True)


@dataclass(frozen=True)
class PreviousOutput:
    """What a command writes into its output folder, so that ``--force`` replaces a previous output of the command
    and nothing else (:func:`check_previous_output`).

    ``command`` names it in messages (``"adcbridge run"``); ``files`` and ``folders`` are the names it writes at
    the top of the folder (nothing else may be there); ``check(folder)`` returns None when the folder's contents
    show it is the command's output (its record file, say), or else the reason, worded to follow "and this one"
    (``"has no summary.json of a study run"``)."""

    command: str
    files: tuple[str, ...]
    check: Callable[[Path], str | None]
    folders: tuple[str, ...] = ()


def check_previous_output(out: str | os.PathLike, force: bool, previous: PreviousOutput) -> None:
    """Refuse (a ValueError naming ``out``, one line) to replace an existing folder with ``force`` unless it is
    empty or a previous output of ``previous.command``: only the files and folders it writes (plain ones, not
    links) and contents its ``check`` recognises.  A link in place of the folder is refused too.  Nothing is
    checked without ``force`` or when ``out`` does not exist (:func:`check_new_folder` refuses those cases)."""
    out = Path(out)
    if not force or not (out.exists() or out.is_symlink()):
        return
    only = f"--force replaces only a folder written by {previous.command}"
    if out.is_symlink():
        raise ValueError(f"{out}: is a link; {only}")
    if not out.is_dir():
        return                                      # a file: refused by check_new_folder, in its words
    try:
        entries = sorted(out.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise ValueError(f"{out}: cannot list the folder ({exc.strerror or exc}); {only}") from None
    if not entries:
        return
    others = [p.name for p in entries if p.is_symlink()
              or not ((p.name in previous.files and p.is_file()) or (p.name in previous.folders and p.is_dir()))]
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise ValueError(f"{out}: {only}, and this one holds {shown}; choose another folder")
    reason = previous.check(out)
    if reason:
        raise ValueError(f"{out}: {only}, and this one {reason}; choose another folder")


def check_new_folder(out: str | os.PathLike, force: bool, keep=(), previous: PreviousOutput | None = None) -> None:
    """Refuse to make ``out`` as a command's output folder (a ValueError naming it) when it exists and ``force`` is
    not given, when a file stands in its place, when its parent is missing, a file or not writable, and -- with
    ``force`` too -- when it is a mount point, is or holds one of the files in ``keep`` (a study's inputs), or is the
    working folder, one above it or the home folder (replacing those would delete what they hold), and, given
    ``previous``, when it is neither empty nor a previous output of that command (:func:`check_previous_output`)."""
    out = Path(out)
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise ValueError(f"{out}: exists and is not a folder")
        if not force:
            raise ValueError(f"{out}: the output folder exists; give --force to replace it")
        if os.path.ismount(out):
            raise ValueError(f"{out}: the output folder is a mount point, which cannot be replaced; give a new folder "
                             f"inside it")
    target = out.resolve()
    for f in keep:
        f = Path(f).resolve()
        if target == f or target in f.parents:
            raise ValueError(f"{out}: the output folder would hold the input {f}; choose another folder (replacing "
                             f"it would delete the input)")
    here = Path.cwd().resolve()
    if target == here or target in here.parents or target == Path.home().resolve():
        raise ValueError(f"{out}: the output folder is the working folder, one above it or the home folder; choose "
                         f"a new folder")
    parent = target.parent
    if parent.exists() and not parent.is_dir():
        raise ValueError(f"{out}: {parent} is a file, so the output folder cannot be made")
    if not parent.is_dir():
        raise ValueError(f"{out}: the folder {parent} does not exist; create it first or choose another path")
    try:
        _probe(parent, out)                         # the staging folder is made there: try it (root, /proc, a
    except OSError as exc:                          # read-only mount are not told by the permissions)
        raise ValueError(f"{out}: {exc.strerror}") from None
    if previous is not None:
        check_previous_output(out, force, previous)


def check_before_replace(out: str | os.PathLike, force: bool, previous: PreviousOutput | None = None) -> None:
    """The check made again just before a finished output takes the place of ``out`` (which may have changed while
    the outputs were made): without ``force`` ``out`` must still be absent; with it and ``previous``, an existing
    ``out`` must still be empty or a previous output of that command (:func:`check_previous_output`).  A
    ValueError naming ``out`` (one line) otherwise."""
    out = Path(out)
    if not force and (out.exists() or out.is_symlink()):
        raise ValueError(f"{out}: the output folder exists (made while the outputs were written); give --force to "
                         f"replace it")
    if previous is not None:
        check_previous_output(out, force, previous)


@contextmanager
def named_errors(path: str | os.PathLike):
    """An OS error while writing a temporary file (or making a staging folder) names the output the user asked
    for, not the temporary name."""
    try:
        yield
    except OSError as exc:
        if getattr(exc, "filename", None) and str(exc.filename) != str(path):
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def staged_outputs(make_folders: bool = False):
    """A :class:`Stage` whose outputs all appear at their targets when the block ends without an error, and none
    of them (nor any folder made for them) when it raises.  The renames at the end are each atomic; the targets
    are checked up front (not a folder), so in practice all of them succeed.  With ``make_folders=False`` an
    output's folder must exist or be declared with :meth:`Stage.folder` (see :meth:`Stage.reserve`): a file the
    user names is never put in a folder made up from a typo.  ``make_folders=True`` makes missing folders (for
    callers writing into a tree of their own making)."""
    stage = Stage(make_folders)
    try:
        yield stage
        stage.commit()
    except BaseException:
        stage.abort()
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (its folder must exist)."""
    with staged_outputs(make_folders=False) as stage:
        return stage.bytes(path, data)


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj) -> Path:
    return write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def write_table(path: str | os.PathLike, table: pd.DataFrame) -> Path:
    """Write a table as CSV (``.csv``), Parquet (``.parquet``) or JSON records (``.json``), atomically."""
    with staged_outputs(make_folders=False) as stage:
        return stage.table(path, table)


def write_table_chunks(path: str | os.PathLike, tables) -> Path:
    """Write an iterable of tables (same columns) as one CSV or Parquet table by the suffix of ``path``, chunk by
    chunk with pyarrow, atomically: nothing appears at ``path`` unless every chunk was written."""
    with staged_outputs(make_folders=False) as stage:
        return stage.table_chunks(path, tables)


def write_csv_chunks(path: str | os.PathLike, tables) -> Path:
    """Write an iterable of tables as one CSV (header once), atomically: nothing appears at ``path`` unless every
    chunk was written.  (pandas' formatting; :func:`write_table_chunks` is the fast pyarrow writer.)"""
    with staged_outputs(make_folders=False) as stage:
        tmp = stage.reserve(path)
        with named_errors(path), open(tmp, "w", newline="") as fh:
            for k, table in enumerate(tables):
                table.to_csv(fh, index=False, header=k == 0)
        return Path(path)


@contextmanager
def output_folder(out: str | os.PathLike, force: bool = False, keep=(), previous: PreviousOutput | None = None):
    """A whole output folder written at once: yields a new staging folder next to ``out``; when the block ends
    without an error the staging folder takes the place of ``out`` (an existing one, allowed by ``force``, is
    moved aside first and then removed), so ``out`` is the old folder or the new one, never a mix.  On an error,
    Ctrl-C or SIGTERM (handled like Ctrl-C while the block runs) the staging folder is removed and nothing is
    written.  ``out`` is checked first (:func:`check_new_folder`, with ``keep`` and ``previous``) and again just
    before it is replaced (:func:`check_before_replace`: it may have changed while the outputs were made)."""
    out = Path(out)
    check_new_folder(out, force, keep, previous)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.resolve().parent))
    except OSError as exc:                          # an error names the user's folder, not the staging one
        raise _cannot_write(exc, out, out.resolve().parent) from None
    handler = _terminate_as_interrupt()
    try:
        yield staging
        check_before_replace(out, force, previous)
        _replace_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        _restore_terminate(handler)


def _terminate_as_interrupt():
    """While outputs are made, SIGTERM stops the work like Ctrl-C (so the staging folder is removed)."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise KeyboardInterrupt
    return signal.signal(signal.SIGTERM, stop)


def _restore_terminate(previous) -> None:
    import signal
    import threading
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)


def _replace_folder(staging: Path, out: Path) -> None:
    """Put the finished staging folder in the place of ``out`` (an existing one is moved aside first, then
    removed)."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.resolve().parent))
        os.replace(out, old / "previous")
    os.replace(staging, out)
    os.chmod(out, 0o777 & ~_umask())
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
