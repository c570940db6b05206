"""Atomic file writing: a crash never leaves a half-written file under the final name.

Every writer of the library writes to a temporary file in the destination directory,
flushes it to disk, and only then renames it over the final path with
:func:`os.replace` (atomic on POSIX and Windows when both names are on the same file
system, which a sibling file always is). If anything fails in between, the temporary
file is removed and an existing file at the final path is left untouched.

Three rules keep a write from doing harm:

- A symbolic link is followed: the file it points to is replaced (atomically, next to
  it) and the link stays a link. The new file keeps the permission bits of the file it
  replaces.
- Anything but a regular file at the destination (a FIFO, a character or block device
  such as ``/dev/null``, a socket, a loop of symbolic links) is refused with a
  :class:`ValueError`; it is never replaced by a regular file. So is a file name longer
  than the file system allows (``NAME_MAX``, 255 bytes on most), before anything is
  written.
- Temporary names carry the writer's host and process id and a key of the
  destination's name (``.tmp-<host>-<pid>-<token>-<key>-<name>``), with the front of a
  long name cut so that the temporary name never exceeds ``NAME_MAX`` whatever the
  destination's (its end, the extension, is kept). A writer that finds another live
  writer's temporary file for the same destination refuses to start (two writers never
  interleave), and it removes the temporary files of writers on this host whose
  process is gone (debris of a ``kill -9``), never those of a running one.
- SIGTERM (``kill``, SLURM, ``docker stop``) during an :func:`atomic_path` block acts as
  Ctrl-C: the temporary file is removed and :class:`KeyboardInterrupt` propagates.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import os
import re
import secrets
import socket
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ._signals import raise_if_signalled, sigterm_as_keyboard_interrupt

__all__ = [
    "atomic_path",
    "commit_temporary",
    "discard_temporary",
    "gzip_aware_target",
    "name_max",
    "new_temporary",
    "resolve_destination",
]

_TEMP_PREFIX = ".tmp-"
_MAX_NAME_TRIES = 100
#: NAME_MAX where the file system does not say (POSIX's usual value, in bytes).
_DEFAULT_NAME_MAX = 255
#: ``rest`` is ``<key>-<tail of the name>`` (or, from versions before the key, the name).
_TEMP_PATTERN = re.compile(
    r"^\.tmp-(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]+)-[0-9a-f]{8}-(?P<rest>.+)$"
)


def _host_tag() -> str:
    """Eight hexadecimal characters naming this machine in temporary file names."""
    return f"{zlib.crc32(socket.gethostname().encode()):08x}"


def _process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine.

    On Windows ``os.kill`` terminates the process whatever the signal, so there every
    process counts as alive: stale temporary files are never removed automatically.
    """
    if os.name == "nt":
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, but belongs to another user
        return True
    except OSError:  # pragma: no cover - platforms without signal 0: assume alive
        return True
    return True


def name_max(folder: str | os.PathLike) -> int:
    """The longest file name, in bytes, that the file system of ``folder`` accepts."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    return _DEFAULT_NAME_MAX


def _check_name_length(given: Path, final: Path) -> None:
    limit = name_max(final.parent)
    length = len(os.fsencode(final.name))
    if length > limit:
        message = (f"cannot write {str(given)!r}: its file name is {length} bytes long and "
                   f"the file system allows at most {limit} (NAME_MAX); choose a shorter "
                   "name")
        raise ValueError(message)


def _special_kind(mode: int) -> str | None:
    """A name for a file type that must never be replaced by a regular file."""
    kinds = {stat.S_ISFIFO: "a FIFO (named pipe)", stat.S_ISCHR: "a character device",
             stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}
    for test, name in kinds.items():
        if test(mode):
            return name
    return None


def resolve_destination(path: str | os.PathLike) -> Path:
    """The regular file a write to ``path`` must replace, following symbolic links.

    Parameters
    ----------
    path : str or os.PathLike
        Destination given by the user; it may be a symbolic link (even a dangling
        one: the file it names is created).

    Returns
    -------
    destination : pathlib.Path
        ``path`` with every symbolic link resolved.

    Raises
    ------
    FileNotFoundError
        If the destination's directory does not exist.
    IsADirectoryError
        If the destination is a directory.
    ValueError
        If the destination is a FIFO, a device node, a socket or a loop of symbolic
        links, or if its file name is longer than the file system allows.
    """
    given = Path(path)
    _check_name_length(given, given)
    try:
        os.stat(given)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # realpath would hand back a link of the loop
            message = (f"refusing to write {str(given)!r}: it is a loop of symbolic links "
                       "that leads to no file; remove the link or give another path")
            raise ValueError(message) from None
    final = Path(os.path.realpath(given)) if given.is_symlink() else given
    try:
        mode = os.stat(final).st_mode
    except OSError:  # missing (a new file), or a broken chain of links
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        message = f"cannot write {str(given)!r}: it is an existing directory, not a file path."
        raise IsADirectoryError(message)
    kind = None if mode is None else _special_kind(mode)
    if kind is not None:
        message = (
            f"refusing to write {str(given)!r}: it is {kind}, not a regular file, and "
            "replacing it would break the system. Give the path of an ordinary file."
        )
        raise ValueError(message)
    if not final.parent.is_dir():
        message = (
            f"cannot write {str(given)!r}: the directory {str(final.parent)!r} does not "
            "exist. Create it first (e.g. Path(path).parent.mkdir(parents=True))."
        )
        raise FileNotFoundError(message)
    _check_name_length(given, final)
    return final


def _name_key(name: str) -> str:
    """Eight hexadecimal characters naming a destination in its temporary file names."""
    return f"{zlib.crc32(os.fsencode(name)):08x}"


def _temporary_rest(final: Path, budget: int) -> str:
    """``<key>-<tail>``: the destination's key and as much of the end of its name as fits.

    ``budget`` is the bytes left for it in the temporary name; the front of the name is
    cut, so that its extension (which some writers read) stays.
    """
    rest = f"{_name_key(final.name)}-{final.name}"
    while len(os.fsencode(rest)) > budget and len(rest) > 10:
        rest = rest[:9] + rest[10:]  # drop the name's first character, keep the key
    return rest


def _temporaries_of(final: Path) -> Iterator[tuple[Path, str, int]]:
    """The library's temporary files in ``final``'s directory: (path, host, pid)."""
    with contextlib.suppress(OSError), os.scandir(final.parent) as entries:
        for entry in entries:
            match = _TEMP_PATTERN.match(entry.name)
            if match is not None:
                yield Path(entry.path), match["host"], int(match["pid"])


def _remove_stale(final: Path) -> None:
    """Delete temporary files left in the directory by dead processes of this host."""
    host = _host_tag()
    for temporary, owner_host, pid in _temporaries_of(final):
        if owner_host == host and not _process_alive(pid):
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _birth(path: Path) -> int:
    """Creation time of a temporary file (ns), or a time in the far future if gone."""
    try:
        return os.stat(path).st_ctime_ns
    except FileNotFoundError:
        return 2**63  # already gone: it finished or failed


def _refuse_concurrent_writer(final: Path, mine: Path) -> None:
    """Raise if another live writer started writing ``final`` before this one.

    File times are coarse (a clock tick), so two writers started within one tick both
    give up: a clean failure for both rather than one file written twice at once.
    """
    host = _host_tag()
    ours = _TEMP_PATTERN.match(mine.name)["rest"]
    for temporary, owner_host, pid in _temporaries_of(final):
        rest = _TEMP_PATTERN.match(temporary.name)["rest"]
        if temporary == mine or rest not in (ours, final.name):  # (the name: old versions)
            continue
        if owner_host == host and not _process_alive(pid):
            continue
        if _birth(temporary) <= _birth(mine):
            discard_temporary(mine)
            message = (
                f"cannot write {str(final)!r}: another writer (process {pid}"
                f"{', this one' if pid == os.getpid() else ''}) is writing it right now "
                f"(its temporary file is {temporary.name!r}). Wait for it to "
                "finish or choose another output path; if no such process runs, delete "
                "that temporary file."
            )
            raise FileExistsError(message)


def new_temporary(path: str | os.PathLike, *, exclusive: bool = True) -> Path:
    """Create an empty, uniquely named temporary sibling of ``path`` and return its path.

    ``path`` is resolved first (see :func:`resolve_destination`): the temporary file
    lies next to the file a symbolic link points to. Its name keeps the final file
    name at its end (``.tmp-<host>-<pid>-<token>-<key>-name.fits.gz``) so that tools
    which pick a compression or format from the extension behave the same; the front of
    a name too long to fit under ``NAME_MAX`` is cut (the key, a checksum of the whole
    name, still tells destinations apart). It is created
    with mode ``0o666`` minus the umask, like an ordinary new file. Temporary files of
    dead processes of this host are removed from the directory on the way.

    With ``exclusive=False`` another writer of the same destination is tolerated (the
    last to finish wins): for files such as checkpoints, where every complete version
    is equally good.

    Raises
    ------
    FileExistsError
        If ``exclusive`` and another live process is writing the same destination.
    """
    final = resolve_destination(path)
    _remove_stale(final)
    stem = f"{_TEMP_PREFIX}{_host_tag()}-{os.getpid()}-"
    rest = _temporary_rest(final, name_max(final.parent) - len(stem) - 9)
    for _ in range(_MAX_NAME_TRIES):
        candidate = final.parent / f"{stem}{secrets.token_hex(4)}-{rest}"
        try:
            descriptor = os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        os.close(descriptor)
        if exclusive:
            _refuse_concurrent_writer(final, candidate)
        return candidate
    message = f"could not create a temporary file next to {str(final)!r}"
    raise FileExistsError(message)


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    """Flush a file (or, on POSIX, a directory entry) to stable storage."""
    if directory and os.name == "nt":  # Windows cannot open directories for fsync.
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def commit_temporary(temporary: Path, path: str | os.PathLike, mode: int | None = None) -> None:
    """Flush ``temporary``, give it its mode and atomically rename it to ``path``.

    ``path`` is resolved again (a symbolic link is followed, a FIFO or device node that
    appeared meanwhile is refused). The new file keeps the permission bits of the file
    it replaces (a private 0600 file stays private, a 0444 one read-only); a new file
    gets ``mode`` (that of any new file under the umask), restored because some writers
    replace the temporary file with one of their own (safetensors, for one, creates it
    readable by its owner only).
    """
    final = resolve_destination(path)
    with contextlib.suppress(OSError):  # the file replaced, if any: keep its mode
        mode = stat.S_IMODE(os.stat(final).st_mode)
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
def atomic_path(path: str | os.PathLike, *, exclusive: bool = True) -> Iterator[Path]:
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
        Final destination. Its directory must exist. An existing regular file is
        replaced; a symbolic link is followed (its target is replaced, the link kept).
    exclusive : bool, default=True
        Refuse to start while another live writer writes ``path``. False lets both
        write, the last to finish winning (see :func:`new_temporary`).

    Yields
    ------
    temporary : pathlib.Path
        A hidden sibling of the destination (``.tmp-<host>-<pid>-<random>-<key>-<name>``,
        same extension), in the same directory so that the final rename stays on one
        file system.

    Raises
    ------
    FileNotFoundError
        If the directory of ``path`` does not exist.
    IsADirectoryError
        If ``path`` is an existing directory.
    ValueError
        If ``path`` is a FIFO, a device node (such as ``/dev/null``) or a socket.
    FileExistsError
        If ``exclusive`` and another live process is writing the same destination.

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
    with sigterm_as_keyboard_interrupt():
        temporary = new_temporary(path, exclusive=exclusive)
        try:
            mode = stat.S_IMODE(os.stat(temporary).st_mode)
            yield temporary
            raise_if_signalled()  # a SIGTERM whose exception a __del__ swallowed
            commit_temporary(temporary, path, mode)
        except BaseException:
            discard_temporary(temporary)
            raise


@contextlib.contextmanager
def gzip_aware_target(temporary: str | os.PathLike,
                      path: str | os.PathLike) -> Iterator[str | BinaryIO]:
    """What to hand a writer that compresses by the name: the path, or a gzip stream.

    Writers such as astropy's gzip a file whose name ends in ``.gz`` and record that
    name in the gzip header, where the temporary name of an atomic write would end up
    (``gunzip -N`` would restore it). For such a destination this yields a binary gzip
    stream into ``temporary`` whose header names the final file; otherwise ``temporary``
    itself, as a string.

    Parameters
    ----------
    temporary : str or os.PathLike
        The temporary file (from :func:`atomic_path`).
    path : str or os.PathLike
        The final destination.

    Yields
    ------
    target : str or file object
    """
    name = Path(path).name
    if not name.lower().endswith(".gz"):
        yield str(temporary)
        return
    with open(temporary, "wb") as raw, gzip.GzipFile(filename=name, mode="wb",
                                                      fileobj=raw) as stream:
        yield stream
