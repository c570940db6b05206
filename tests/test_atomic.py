"""Tests for the atomic write helper used by every dataset writer."""

import os
import stat

import pytest

from sk_clustermass._utils._atomic import _host_tag, atomic_path, new_temporary


def _names(folder):
    return sorted(path.name for path in folder.iterdir())


def test_success_renames_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "cube.fits.gz"
    with atomic_path(target) as temporary:
        assert temporary.parent == tmp_path
        assert temporary.name.endswith("cube.fits.gz")  # extension kept for writers
        assert temporary.exists() and not target.exists()
        temporary.write_bytes(b"complete")
    assert target.read_bytes() == b"complete"
    assert _names(tmp_path) == ["cube.fits.gz"]


@pytest.mark.parametrize("error", [RuntimeError("crash"), KeyboardInterrupt()])
def test_crash_mid_write_leaves_no_file(tmp_path, error):
    target = tmp_path / "data.h5"
    with pytest.raises(type(error)), atomic_path(target) as temporary:
        temporary.write_bytes(b"half")
        raise error
    assert _names(tmp_path) == []


def test_crash_while_replacing_keeps_the_old_file(tmp_path):
    target = tmp_path / "data.h5"
    target.write_bytes(b"old and complete")
    with pytest.raises(RuntimeError, match="crash"), atomic_path(target) as temporary:
        temporary.write_bytes(b"new but half")
        raise RuntimeError("crash")
    assert target.read_bytes() == b"old and complete"
    assert _names(tmp_path) == ["data.h5"]


def test_replaces_existing_file(tmp_path):
    target = tmp_path / "data.h5"
    target.write_bytes(b"old")
    with atomic_path(target) as temporary:
        temporary.write_bytes(b"new")
    assert target.read_bytes() == b"new"


def test_writer_may_remove_temporary_before_failing(tmp_path):
    target = tmp_path / "data.h5"
    with pytest.raises(ValueError), atomic_path(target) as temporary:
        temporary.unlink()
        raise ValueError("writer cleaned up itself")
    assert _names(tmp_path) == []


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        with atomic_path(tmp_path / "missing" / "data.h5"):
            pass


def test_directory_target_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="directory"):
        with atomic_path(tmp_path):
            pass


def test_new_file_mode_follows_umask(tmp_path):
    old_umask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "a.txt") as temporary:
            temporary.write_text("x")
    finally:
        os.umask(old_umask)
    if os.name == "posix":
        assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644


def test_second_writer_of_the_same_path_fails_cleanly(tmp_path):
    target = tmp_path / "data.h5"
    with atomic_path(target) as first:
        first.write_text("first")
        with pytest.raises(FileExistsError, match="another writer"):
            with atomic_path(target):
                pass  # pragma: no cover - never reached
        assert _names(tmp_path) == [first.name]  # the refused writer left nothing
    assert target.read_text() == "first"
    assert _names(tmp_path) == ["data.h5"]


def test_writers_of_different_paths_do_not_block_each_other(tmp_path):
    with atomic_path(tmp_path / "a.h5") as first, atomic_path(tmp_path / "b.h5") as second:
        first.write_text("a")
        second.write_text("b")
    assert _names(tmp_path) == ["a.h5", "b.h5"]


def test_writer_that_replaces_the_file_keeps_normal_permissions(tmp_path):
    import numpy as np
    from safetensors.numpy import save_file

    target = tmp_path / "weights.safetensors"
    with atomic_path(target) as temporary:
        save_file({"a": np.zeros(2)}, str(temporary))  # writes a 0o600 file of its own
    reference = tmp_path / "plain.txt"
    reference.write_text("x")
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mode", [0o600, 0o444, 0o640, 0o755])
def test_replacing_a_file_keeps_its_permissions(tmp_path, mode):
    """Issue 27.5: 0444 and 0600 files became 0644 (a private file world-readable)."""
    target = tmp_path / "private.h5"
    target.write_text("old")
    target.chmod(mode)
    with atomic_path(target) as temporary:
        temporary.write_text("new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == mode


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_every_writer_keeps_the_permissions_it_replaces(tmp_path):
    """The HDF5 writer, safetensors models and mass tables go through the same commit."""
    import numpy as np

    from sk_clustermass import as_inputs
    from sk_clustermass.io import write_hdf5

    target = tmp_path / "clusters.h5"
    X = as_inputs(np.ones((2, 1, 4, 4), dtype=np.float32), [0.1, 0.2])
    write_hdf5(target, X, np.array([14.0, 14.5]))
    target.chmod(0o600)
    write_hdf5(target, X, np.array([14.0, 14.5]))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


# ------------------------------------------------------------ links and special files
def test_symlink_is_followed_and_kept(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.h5"
    link.symlink_to(real)
    with atomic_path(link) as temporary:
        assert temporary.parent == tmp_path
        temporary.write_text("new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    assert _names(tmp_path) == ["link.h5", "real.txt"]


def test_symlink_into_another_directory_writes_there(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "link.h5"
    link.symlink_to(elsewhere / "target.h5")  # dangling: the target is created
    with atomic_path(link) as temporary:
        assert temporary.parent == elsewhere
        temporary.write_text("new")
    assert link.is_symlink() and (elsewhere / "target.h5").read_text() == "new"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
@pytest.mark.parametrize("through_link", [False, True])
def test_fifo_is_refused_not_replaced(tmp_path, through_link):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    target = fifo
    if through_link:
        target = tmp_path / "link.h5"
        target.symlink_to(fifo)
    with pytest.raises(ValueError, match="FIFO"), atomic_path(target):
        pass  # pragma: no cover - never reached
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert not [name for name in _names(tmp_path) if name.startswith(".tmp-")]


@pytest.mark.parametrize(("flag", "kind"), [(stat.S_IFCHR, "character device"),
                                            (stat.S_IFBLK, "block device")])
def test_device_node_is_refused(tmp_path, monkeypatch, flag, kind):
    device = tmp_path / "null"
    device.write_text("stands for a device node")
    real_stat = os.stat

    def fake_stat(path, *args, **kwargs):
        result = real_stat(path, *args, **kwargs)
        if os.fspath(path) == os.fspath(device):
            fields = list(result)
            fields[0] = flag | 0o666
            return os.stat_result(fields)
        return result

    monkeypatch.setattr(os, "stat", fake_stat)
    with pytest.raises(ValueError, match=kind), atomic_path(device):
        pass  # pragma: no cover - never reached
    monkeypatch.undo()
    assert device.read_text() == "stands for a device node"


# ------------------------------------------------------------ debris of killed writers
def _dead_pid():
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    stale = tmp_path / f".tmp-{_host_tag()}-{_dead_pid()}-0123abcd-other.h5"
    stale.write_bytes(b"x" * 1000)
    live = tmp_path / f".tmp-{_host_tag()}-{os.getpid()}-0123abcd-other.h5"
    live.write_bytes(b"still being written")
    foreign = tmp_path / ".tmp-notours.h5"
    foreign.write_bytes(b"someone else's")
    with atomic_path(tmp_path / "data.h5") as temporary:
        temporary.write_text("new")
    assert _names(tmp_path) == sorted([".tmp-notours.h5", live.name, "data.h5"])


def test_temporary_of_another_host_is_never_removed(tmp_path):
    other_host = "00000000" if _host_tag() != "00000000" else "11111111"
    remote = tmp_path / f".tmp-{other_host}-{_dead_pid()}-0123abcd-other.h5"
    remote.write_bytes(b"written over NFS by another machine")
    temporary = new_temporary(tmp_path / "data.h5")
    assert remote.exists()
    temporary.unlink()


def test_temporary_name_carries_host_and_pid(tmp_path):
    temporary = new_temporary(tmp_path / "data.h5")
    assert temporary.name.startswith(f".tmp-{_host_tag()}-{os.getpid()}-")
    assert temporary.name.endswith("-data.h5")
    temporary.unlink()


def test_non_exclusive_writers_may_overlap(tmp_path):
    target = tmp_path / "checkpoint.pt"
    with atomic_path(target, exclusive=False) as first:
        with atomic_path(target, exclusive=False) as second:
            second.write_text("second")
        first.write_text("first")
    assert target.read_text() == "first"  # the last to finish wins
    assert _names(tmp_path) == ["checkpoint.pt"]


# ------------------------------------------------------------ issue 27: names, loops, gzip
def test_a_long_valid_name_gets_a_temporary_within_name_max(tmp_path):
    """Issue 27.9: temporary names added ~29 characters, so a valid 247-character output
    failed with ENAMETOOLONG after the work was done."""
    from sk_clustermass._utils import name_max

    limit = name_max(tmp_path)
    target = tmp_path / ("m" * (limit - len(".safetensors")) + ".safetensors")
    with atomic_path(target) as temporary:
        assert len(os.fsencode(temporary.name)) <= limit
        assert temporary.name.endswith(".safetensors")  # the extension is kept
        temporary.write_bytes(b"model")
    assert target.read_bytes() == b"model"
    assert _names(tmp_path) == [target.name]


def test_two_writers_of_one_long_name_still_exclude_each_other(tmp_path):
    from sk_clustermass._utils import name_max

    target = tmp_path / ("d" * (name_max(tmp_path) - 3) + ".h5")
    first = new_temporary(target)
    with pytest.raises(FileExistsError, match="another writer"):
        new_temporary(target)
    other = new_temporary(tmp_path / ("d" * (name_max(tmp_path) - 4) + "e.h5"))  # not same
    first.unlink()
    other.unlink()


def test_a_name_longer_than_the_file_system_allows_is_refused_before_writing(tmp_path):
    from sk_clustermass._utils import name_max

    target = tmp_path / ("x" * (name_max(tmp_path) + 1))
    with pytest.raises(ValueError, match="NAME_MAX"), atomic_path(target):
        pass  # pragma: no cover - never reached
    assert _names(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_a_symlink_loop_is_refused_not_replaced(tmp_path):
    """Issue 27.14: `-o loop` (loop -> loop) was replaced by a regular file."""
    loop = tmp_path / "loop.h5"
    loop.symlink_to(loop)
    with pytest.raises(ValueError, match="loop of symbolic links"), atomic_path(loop):
        pass  # pragma: no cover - never reached
    assert loop.is_symlink() and _names(tmp_path) == ["loop.h5"]


def test_gzip_headers_name_the_final_file_not_the_temporary(tmp_path):
    """Issue 27.14: a .fits.gz output stored its temporary name in its gzip header
    (`gunzip -N` restored the file under it)."""
    import numpy as np

    from sk_clustermass.datasets import write_fits_cube
    from sk_clustermass.models import mass_table, write_mass_table

    cube = tmp_path / "cube.fits.gz"
    write_fits_cube(cube, np.ones((10, 8, 8), np.float32), redshift=0.3)
    table = tmp_path / "masses.fits.gz"
    write_mass_table(mass_table([14.0], [0.1], [0.3]), table)
    for path, stored in ((cube, b"cube.fits"), (table, b"masses.fits")):
        header = path.read_bytes()[:64]
        assert header[:2] == b"\x1f\x8b" and header[3] & 0x08  # gzip, with a name
        assert header[10:10 + len(stored) + 1] == stored + b"\x00"
