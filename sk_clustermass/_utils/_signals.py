"""SIGTERM handled like Ctrl-C, so that ``kill``, SLURM and ``docker stop`` end runs cleanly.

Python turns SIGINT (Ctrl-C) into :class:`KeyboardInterrupt`, which our long-running
code already handles: ``fit`` keeps its best weights and checkpoint, sweeps keep the
finished fits, writers remove their temporary files. SIGTERM, the signal schedulers
and container runtimes send first, kills the process outright by default, leaving
none of that done. Inside :func:`sigterm_as_keyboard_interrupt` SIGTERM raises
:class:`KeyboardInterrupt` instead.

Python runs a signal handler between two bytecodes of whatever code is running, and
an exception raised while that code is a weakref callback or a ``__del__`` method is
printed ("Exception ignored in ...") and dropped. The signal is therefore also
recorded, and :func:`raise_if_signalled` raises it again at the next safe point: the
simulator's writer calls it between chunks, the training loop after every epoch.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["raise_if_signalled", "sigterm_as_keyboard_interrupt"]

_RECEIVED: list[str] = []  # messages of signals received inside the active block


def _raise_keyboard_interrupt(signum: int, frame) -> None:
    message = f"received signal {signal.Signals(signum).name}; stopping as for Ctrl-C"
    _RECEIVED.append(message)
    raise KeyboardInterrupt(message)


def raise_if_signalled() -> None:
    """Raise :class:`KeyboardInterrupt` if SIGTERM arrived and its exception was lost.

    Call it at safe points of long loops (between chunks): a SIGTERM whose
    :class:`KeyboardInterrupt` was swallowed because it struck inside a weakref
    callback or a ``__del__`` method then still stops the run. Outside
    :func:`sigterm_as_keyboard_interrupt`, or when no signal arrived, it does nothing.

    Raises
    ------
    KeyboardInterrupt
        When a signal was received inside the active block.
    """
    if _RECEIVED:
        raise KeyboardInterrupt(_RECEIVED[-1])


@contextlib.contextmanager
def sigterm_as_keyboard_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`KeyboardInterrupt` like Ctrl-C does.

    The previous handler is restored when the block ends. Signal handlers can only be
    set from the main thread of the main interpreter: elsewhere (a worker thread, a
    dask worker's executor) the block runs unchanged, and so it does where the user
    installed a SIGTERM handler of their own.

    Examples
    --------
    >>> import os, signal, time
    >>> try:
    ...     with sigterm_as_keyboard_interrupt():
    ...         os.kill(os.getpid(), signal.SIGTERM)
    ...         time.sleep(5)
    ... except KeyboardInterrupt as stop:
    ...     print(stop)
    received signal SIGTERM; stopping as for Ctrl-C
    """
    sigterm = getattr(signal, "SIGTERM", None)
    if sigterm is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(sigterm)
    if previous not in (signal.SIG_DFL, None):  # the user's own handler wins
        yield
        return
    _RECEIVED.clear()
    signal.signal(sigterm, _raise_keyboard_interrupt)
    try:
        yield
    finally:
        signal.signal(sigterm, previous)
        _RECEIVED.clear()
