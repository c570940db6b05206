"""Tests for the atomic write helper used by every dataset writer."""

import os
import stat

import pytest

from sk_clustermass._utils._atomic import atomic_path


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


def test_two_writers_get_distinct_temporaries(tmp_path):
    target = tmp_path / "data.h5"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second
        first.write_text("first")
        second.write_text("second")
    # the outer block finishes last, so its content wins
    assert target.read_text() == "first"
    assert _names(tmp_path) == ["data.h5"]


def test_writer_that_replaces_the_file_keeps_normal_permissions(tmp_path):
    import numpy as np
    from safetensors.numpy import save_file

    target = tmp_path / "weights.safetensors"
    with atomic_path(target) as temporary:
        save_file({"a": np.zeros(2)}, str(temporary))  # writes a 0o600 file of its own
    reference = tmp_path / "plain.txt"
    reference.write_text("x")
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)
