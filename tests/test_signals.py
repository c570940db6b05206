"""Tests for SIGTERM handled like Ctrl-C."""

import os
import signal
import threading
import time

import pytest

from sk_clustermass._utils import sigterm_as_keyboard_interrupt

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")


def test_sigterm_raises_keyboard_interrupt_and_handler_is_restored():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        with sigterm_as_keyboard_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
    assert signal.getsignal(signal.SIGTERM) is before


def test_users_own_handler_is_kept():
    received = []

    def handler(signum, frame):
        received.append(signum)

    before = signal.signal(signal.SIGTERM, handler)
    try:
        with sigterm_as_keyboard_interrupt():
            assert signal.getsignal(signal.SIGTERM) is handler
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
    finally:
        signal.signal(signal.SIGTERM, before)
    assert received == [signal.SIGTERM]


def test_worker_thread_runs_unchanged():
    outcome = []

    def work():
        with sigterm_as_keyboard_interrupt():
            outcome.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert outcome == [signal.getsignal(signal.SIGTERM)]
