"""Atomic file writing: a crash never leaves a half-written file under the final name.

Every writer in :mod:`sk_clustermass.datasets` writes to a temporary file in the
destination directory, flushes it to disk, and only then renames it over the final
path with :func:`os.replace` (atomic on POSIX and Windows when both names are on the
same file system, which a sibling file always is). If anything fails in between, the
temporary file is removed and an existing file at the final path is left untouched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "commit_temporary", "discard_temporary", "new_temporary"]

_TEMP_PREFIX = ".tmp-"
_MAX_NAME_TRIES = 100


def new_temporary(path: str | os.PathLike) -> Path:
    """Create an empty, uniquely named temporary sibling of ``path`` and return its path.

    The temporary name keeps the final file name at its end (``.tmp-<token>-name.fits.gz``)
    so that tools which pick a compression or format from the extension behave the same.
    It is created with mode ``0o666`` minus the umask, like an ordinary new file.
    """
    final = Path(path)
    directory = final.parent
    if not directory.is_dir():
        message = (
            f"cannot write {str(final)!r}: the directory {str(directory)!r} does not exist. "
            "Create it first (e.g. Path(path).parent.mkdir(parents=True))."
        )
        raise FileNotFoundError(message)
    if final.is_dir():
        message = f"cannot write {str(final)!r}: it is an existing directory, not a file path."
        raise IsADirectoryError(message)
    for _ in range(_MAX_NAME_TRIES):
        candidate = directory / f"{_TEMP_PREFIX}{secrets.token_hex(4)}-{final.name}"
        try:
            descriptor = os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        os.close(descriptor)
        return candidate
    message = f"could not create a temporary file next to {str(final)!r}"
    raise FileExistsError(message)


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    """Flush a file (or, on POSIX, a directory entry) to stable storage."""
    if directory and os.name == "nt":  # Windows cannot open directories for fsync.
        return
    flags = os.O_RDONLY
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def commit_temporary(temporary: Path, path: str | os.PathLike, mode: int | None = None) -> None:
    """Flush ``temporary``, give it ``mode`` and atomically rename it to ``path``.

    Some writers replace the temporary file with one of their own (safetensors, for
    one, creates it readable by its owner only); the mode of the file we created (that
    of any new file under the umask) is restored before the rename.
    """
    final = Path(path)
    if mode is not None:
        with contextlib.suppress(OSError):
            os.chmod(temporary, mode)
    _fsync_path(temporary)
    os.replace(temporary, final)
    with contextlib.suppress(OSError):  # best effort: some file systems refuse it
        _fsync_path(final.parent, directory=True)


def discard_temporary(temporary: Path) -> None:
    """Remove ``temporary`` if it still exists."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Write a file atomically: yield a temporary path, rename it to ``path`` on success.

    Inside the ``with`` block, write the complete file to the yielded temporary path
    (it exists, empty, so writers must be allowed to overwrite it) and close it. When
    the block ends without an exception the temporary file is flushed to disk (fsync)
    and renamed over ``path`` with :func:`os.replace`, so readers see either the old
    file or the complete new one, never a partial one. When the block raises (including
    ``KeyboardInterrupt``) the temporary file is removed, ``path`` is left as it was and
    the exception propagates.

    Parameters
    ----------
    path : str or os.PathLike
        Final destination. Its directory must exist. An existing file is replaced.

    Yields
    ------
    temporary : pathlib.Path
        A hidden sibling of ``path`` (``.tmp-<random>-<name>``, same extension), in the
        same directory so that the final rename stays on one file system.

    Raises
    ------
    FileNotFoundError
        If the directory of ``path`` does not exist.
    IsADirectoryError
        If ``path`` is an existing directory.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     target = Path(folder) / "notes.txt"
    ...     with atomic_path(target) as temporary:
    ...         _ = temporary.write_text("complete")
    ...     try:
    ...         with atomic_path(target) as temporary:
    ...             _ = temporary.write_text("half")
    ...             raise RuntimeError("crash mid-write")
    ...     except RuntimeError:
    ...         pass
    ...     print(target.read_text(), sorted(p.name for p in Path(folder).iterdir()))
    complete ['notes.txt']
    """
    temporary = new_temporary(path)
    mode = stat.S_IMODE(os.stat(temporary).st_mode)
    try:
        yield temporary
        commit_temporary(temporary, path, mode)
    except BaseException:
        discard_temporary(temporary)
        raise
