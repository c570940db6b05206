"""Scoped glibc allocator tuning (sk_clustermass._utils._memory)."""

from __future__ import annotations

import ctypes
import threading

import numpy as np
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


def test_tunes_on_entry_and_keeps_the_free_heap_on_exit(libc):
    with malloc_tuned():
        assert _thresholds(libc.calls) == [
            (_memory._M_TRIM_THRESHOLD, _memory._TUNED_TRIM_THRESHOLD),
            (_memory._M_MMAP_THRESHOLD, _memory._TUNED_MMAP_THRESHOLD),
            (_memory._M_MMAP_MAX, 0),  # no mmap at all: buffers above 32 MiB are kept too
        ]
    assert _thresholds(libc.calls)[3:] == [
        # what a block leaves free stays for the next one: glibc's first free() at the
        # top of the heap would give it back with its 128 kB threshold
        (_memory._M_TRIM_THRESHOLD, _memory.KEEP_FREE_BYTES),
        (_memory._M_MMAP_THRESHOLD, _memory._GLIBC_DEFAULT_THRESHOLD),
        (_memory._M_MMAP_MAX, _memory._GLIBC_DEFAULT_MMAP_MAX),
    ]
    assert libc.calls[-1] == ("malloc_trim", 0)


def test_nested_blocks_restore_only_at_the_outermost_exit(libc):
    with malloc_tuned():
        with malloc_tuned():
            pass
        assert len(libc.calls) == 3  # the inner exit left the tuning in place
    assert len(libc.calls) == 7 and _memory._depth == 0


def test_defaults_come_back_after_an_exception(libc):
    with pytest.raises(RuntimeError), malloc_tuned():
        raise RuntimeError("boom")
    assert libc.calls[-1] == ("malloc_trim", 0) and _memory._depth == 0


@pytest.mark.parametrize(("free_mib", "resident_mib", "trimmed"), [
    ((0, 10), (1000, 1010), False),
    ((0, 500), (1000, 1500), True),
    # freed earlier (by a fit, say) and counted by glibc even once trimmed: a block
    # that brings few pages back in keeps its own buffers for the next call
    ((680, 680), (1000, 1000), False),
    ((680, 700), (1000, 1150), False),
    # a second fit faulted the trimmed pages in again and freed them: back they go
    ((680, 680), (1000, 1500), True),
    ((100, 100), (1000, 1500), False),  # grown, but by live data: nothing to trim
    # no resident count: the growth of the free heap stands in for it
    ((680, 700), None, False),
    ((400, 700), None, True),
])
def test_the_heap_is_trimmed_only_when_the_block_left_much_of_it_free(
        libc, monkeypatch, free_mib, resident_mib, trimmed):
    """A block leaves up to KEEP_FREE_BYTES free with glibc for the next one; beyond
    that, if the block brought that much into memory, the cache goes back."""
    free = iter([mib * 2**20 for mib in free_mib])
    resident = iter([None, None] if resident_mib is None
                    else [mib * 2**20 for mib in resident_mib])
    libc.mallinfo2 = lambda: _memory._MallInfo2(fordblks=next(free))
    monkeypatch.setattr(_memory, "_resident_bytes", lambda: next(resident))
    with malloc_tuned():
        pass
    assert (("malloc_trim", 0) in libc.calls) is trimmed
    assert len(_thresholds(libc.calls)) == 6  # the defaults come back either way


def test_resident_memory_is_read_from_the_system():
    resident = _memory._resident_bytes()
    if resident is None:
        pytest.skip("needs /proc/self/statm")
    ballast = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    assert _memory._resident_bytes() - resident > 60 * 2**20
    del ballast


def test_free_heap_is_read_from_the_real_glibc():
    real = _memory._libc()
    if real is None or not hasattr(real, "mallinfo2"):
        pytest.skip("needs glibc >= 2.33")
    free = _memory._free_heap_bytes(real)
    assert isinstance(free, int) and 0 <= free < 2**40


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
    assert len(libc.calls) == 3  # tuned once for both threads
    release.set()
    for thread in threads:
        thread.join()
    assert libc.calls[-1] == ("malloc_trim", 0) and len(libc.calls) == 7


def test_real_allocator_survives_a_block():
    with malloc_tuned():
        data = bytearray(64 * 1024 * 1024)
    assert len(data) == 64 * 1024 * 1024


def _mapped_blocks() -> int:
    """Blocks glibc currently serves by mmap (``hblks`` of ``mallinfo2``)."""

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]

    mallinfo2 = _memory._libc().mallinfo2
    mallinfo2.restype = MallInfo2
    return mallinfo2().hblks


@pytest.mark.skipif(_memory._libc() is None or not hasattr(_memory._libc(), "mallinfo2"),
                    reason="needs glibc >= 2.33 (mallinfo2)")
def test_blocks_above_32_mib_stay_on_the_heap_inside_and_are_mapped_again_after():
    """Issue 29: a 49 MB activation buffer (batch 256, float32) was mapped at every batch."""
    size = 48 * 1024 * 1024  # above glibc's largest mmap threshold (32 MiB)
    before = _mapped_blocks()
    with malloc_tuned():
        inside = np.empty(size, dtype=np.uint8)
        assert _mapped_blocks() == before  # served by the heap
        del inside
    # The freed 48 MB stay with glibc (less than KEEP_FREE_BYTES) and serve what fits
    # them; a larger block is mapped again: the default is back.
    after = np.empty(3 * size, dtype=np.uint8)
    assert _mapped_blocks() == before + 1
    del after
