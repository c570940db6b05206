"""The one output-safety rule of the command line: no command writes over its inputs.

Every command checks, before any work, every file it will write against every file it
reads (data, models given as the argument or with ``--model``, configs, event files,
exposure maps, catalogues), through links, ``..`` and hard links. Commands that write a
folder (``evaluate``, ``study``, ``demo``) name the files they may write there as
patterns (:data:`EVALUATION_FILES`, :data:`STUDY_FILES`): an input in the folder whose
name matches one, or a file there that is an input under another name, is refused.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from pathlib import Path

from .._utils import discard_temporary, name_max, new_temporary
from ._common import CLIError

__all__ = [
    "EVALUATION_FILES",
    "STUDY_FILES",
    "output_file",
    "output_folder",
    "refuse_overwriting_inputs",
    "same_file",
]

#: The files ``evaluate`` (and ``demo``) may write into its output folder.
EVALUATION_FILES = ("metrics.csv", "summary.csv", "predictions.*", "binned_*.csv",
                    "index.html", "model.safetensors", "*.png")
#: The files a ``study`` may write into its output folder (its runs go to subfolders).
STUDY_FILES = ("*.csv", "*.json", "*.png", "*.html")

Inputs = Iterable[str | os.PathLike | None]


def same_file(left: str | os.PathLike, right: str | os.PathLike) -> bool:
    """Whether two paths name one file (through links, ``..`` or hard links)."""
    try:
        return os.path.samefile(left, right)
    except OSError:  # one of them does not exist (yet): compare where they lead
        return os.path.realpath(left) == os.path.realpath(right)


def _refuse(output: str | os.PathLike, source: str | os.PathLike) -> None:
    message = (f"the output {str(output)!r} is the input {str(source)!r}: writing it "
               "would destroy the input. Give another output path with -o.")
    raise CLIError(message)


def refuse_overwriting_inputs(outputs: Iterable[str | os.PathLike], inputs: Inputs) -> None:
    """Raise a CLIError if a file the command would write is one of its inputs."""
    sources = [source for source in inputs if source is not None]
    for output in outputs:
        for source in sources:
            if same_file(output, source):
                _refuse(output, source)


def output_file(path: str | os.PathLike, inputs: Inputs = (),
                suffixes: tuple[str, ...] | None = None) -> Path:
    """The checked path of a file a command writes; its folder is created.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    inputs : iterable of path or None
        Every file the command reads.
    suffixes : tuple of str, optional
        The suffixes the file's format allows (lower case, with the dot).

    Raises
    ------
    CLIError
        If ``path`` is a folder, one of ``inputs``, has another suffix, or another
        command is writing it.
    ValueError, PermissionError
        If it cannot be written: a name longer than the file system allows, a FIFO or
        device, a loop of links, a folder without write permission. Checked by creating
        (and removing) the write's temporary file, before any work is done.
    """
    path = Path(path)
    refuse_overwriting_inputs([path], inputs)
    if suffixes is not None and not path.name.lower().endswith(suffixes):
        message = (f"output {str(path)!r}: this command writes {' or '.join(suffixes)} "
                   f"files; name it e.g. {path.stem}{suffixes[0]}")
        raise CLIError(message)
    limit, length = name_max(path.parent), len(os.fsencode(path.name))
    if length > limit:
        message = (f"output {str(path)!r}: its file name is {length} bytes long and the file "
                   f"system allows at most {limit} (NAME_MAX); choose a shorter name")
        raise CLIError(message)
    if path.is_dir():
        raise CLIError(f"output {str(path)!r} is a directory; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # hours of training must not end in a name the system refuses
        discard_temporary(new_temporary(path))
    except FileExistsError as exc:  # another command is writing it
        raise CLIError(str(exc)) from None
    return path


def output_folder(path: str | os.PathLike, patterns: Iterable[str], inputs: Inputs) -> Path:
    """The checked path of a folder a command writes ``patterns`` into (not created).

    Raises
    ------
    CLIError
        If ``path`` is an existing file, an input lies in the folder under a name the
        command writes, or such a name in the folder is an input (a link, a hard link).
    """
    folder, patterns = Path(path), tuple(patterns)
    if folder.exists() and not folder.is_dir():
        message = (f"output {str(folder)!r} is an existing file; this command writes a "
                   "folder: give a folder name with -o")
        raise CLIError(message)
    sources = [Path(source) for source in inputs if source is not None]
    real_folder = os.path.realpath(folder)
    for source in sources:
        real = os.path.realpath(source)
        if (os.path.dirname(real) == real_folder
                and any(fnmatch.fnmatch(os.path.basename(real), p) for p in patterns)):
            _refuse(folder / os.path.basename(real), source)
    if folder.is_dir():
        written = [entry for entry in folder.iterdir()
                   if any(fnmatch.fnmatch(entry.name, p) for p in patterns)]
        refuse_overwriting_inputs(written, sources)
    return folder
