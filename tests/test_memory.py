"""Scoped glibc allocator tuning (sk_clustermass._utils._memory)."""

from __future__ import annotations

import threading

import pytest

from sk_clustermass._utils import _memory, malloc_tuned


class FakeLibc:
    """Records mallopt/malloc_trim calls instead of changing the real allocator."""

    def __init__(self):
        self.calls = []

    def mallopt(self, option, value):
        self.calls.append(("mallopt", option, value))

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))


@pytest.fixture
def libc(monkeypatch):
    fake = FakeLibc()
    monkeypatch.setattr(_memory, "_libc", lambda: fake)
    return fake


def _thresholds(calls):
    return [(option, value) for kind, *rest in calls if kind == "mallopt"
            for option, value in [rest]]


def test_tunes_on_entry_and_restores_defaults_on_exit(libc):
    with malloc_tuned():
        assert _thresholds(libc.calls) == [
            (_memory._M_TRIM_THRESHOLD, _memory._TUNED_TRIM_THRESHOLD),
            (_memory._M_MMAP_THRESHOLD, _memory._TUNED_MMAP_THRESHOLD),
        ]
    assert _thresholds(libc.calls)[2:] == [
        (_memory._M_TRIM_THRESHOLD, _memory._GLIBC_DEFAULT_THRESHOLD),
        (_memory._M_MMAP_THRESHOLD, _memory._GLIBC_DEFAULT_THRESHOLD),
    ]
    assert libc.calls[-1] == ("malloc_trim", 0)


def test_nested_blocks_restore_only_at_the_outermost_exit(libc):
    with malloc_tuned():
        with malloc_tuned():
            pass
        assert len(libc.calls) == 2  # the inner exit left the tuning in place
    assert len(libc.calls) == 5 and _memory._depth == 0


def test_defaults_come_back_after_an_exception(libc):
    with pytest.raises(RuntimeError), malloc_tuned():
        raise RuntimeError("boom")
    assert libc.calls[-1] == ("malloc_trim", 0) and _memory._depth == 0


def test_disabled_does_nothing(libc):
    with malloc_tuned(enabled=False):
        pass
    assert libc.calls == []


def test_threads_share_one_tuning(libc):
    entered, release = threading.Barrier(3), threading.Event()

    def worker():
        with malloc_tuned():
            entered.wait()
            release.wait()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    entered.wait()
    assert len(libc.calls) == 2  # tuned once for both threads
    release.set()
    for thread in threads:
        thread.join()
    assert libc.calls[-1] == ("malloc_trim", 0) and len(libc.calls) == 5


def test_real_allocator_survives_a_block():
    with malloc_tuned():
        data = bytearray(64 * 1024 * 1024)
    assert len(data) == 64 * 1024 * 1024
