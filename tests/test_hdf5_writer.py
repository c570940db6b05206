"""The HDF5 writer when the system refuses a write, or a signal stops it (issue 27)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs POSIX limits and signals")

REPO = str(Path(__file__).resolve().parents[1])

_LIMITED_WRITER = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from sk_clustermass import as_inputs
    from sk_clustermass.datasets import HDF5ClusterWriter

    path, blocks, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # as `ulimit -f`
    rng = np.random.default_rng(0)
    try:
        with HDF5ClusterWriter(path, n_bands=3, height=32, width=32,
                               compression=None) as writer:
            for _ in range(blocks):
                images = rng.poisson(5.0, (4, 3, 32, 32)).astype(np.float32)
                writer.append(as_inputs(images, np.full(4, 0.3)), np.full(4, 14.0))
    except OSError as exc:
        print("refused", exc.errno)
""")


def _run(script: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, env=env, timeout=120, **kwargs)


@pytest.mark.parametrize(("blocks", "limit"), [(1, 20_000), (12, 100_000)],
                         ids=["refused-at-close", "refused-mid-append"])
def test_a_write_beyond_the_file_size_limit_fails_cleanly(tmp_path, blocks, limit):
    """`ulimit -f 200; sk-clustermass simulate` printed its error, then segfaulted (rc 139):
    HDF5 crashed closing a file whose flush had failed. Now: an OSError, no crash, and
    no temporary file left."""
    result = _run(_LIMITED_WRITER, str(tmp_path / "out.h5"), str(blocks), str(limit))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused 27" in result.stdout  # EFBIG
    assert sorted(os.listdir(tmp_path)) == []


def test_cli_reports_a_refused_write_in_one_line_and_exits_2(tmp_path):
    """Issue 27.7: `( ulimit -f 200; sk-clustermass simulate -n 300 -o x.h5 )`."""
    script = textwrap.dedent("""
        import resource, sys
        from sk_clustermass.cli import main
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
        sys.exit(main(["simulate", "-q", "-n", "64", "-o", sys.argv[1]]))
    """)
    result = _run(script, str(tmp_path / "x.h5"))
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "EFBIG" in lines[0] and "ulimit -f" in lines[0], lines
    assert "Traceback" not in result.stderr
    assert sorted(os.listdir(tmp_path)) == []


_SLOW_WRITE_HDF5 = textwrap.dedent("""
    import sys, time
    import numpy as np
    from sk_clustermass import as_inputs
    from sk_clustermass.datasets import HDF5ClusterWriter, write_hdf5

    original = HDF5ClusterWriter._write_block

    def slow_block(self, *args):  # the first block is written, then a long pause
        original(self, *args)
        print("writing", flush=True)
        time.sleep(60)

    HDF5ClusterWriter._write_block = slow_block
    write_hdf5(sys.argv[1], as_inputs(np.ones((4, 3, 8, 8)), np.full(4, 0.3)), None)
""")


def test_sigterm_during_write_hdf5_removes_the_temporary_file(tmp_path):
    """Issue 27.10: SIGTERM mid-write left `.tmp-...-data.h5` behind (docs/io.md says
    it is removed); the existing file stays as it was."""
    target = tmp_path / "data.h5"
    target.write_bytes(b"the old, complete file")
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS="1")
    child = subprocess.Popen([sys.executable, "-c", _SLOW_WRITE_HDF5, str(target)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
    try:
        assert child.stdout.readline().strip() == "writing"
        assert len(list(tmp_path.glob(".tmp-*"))) == 1  # the write is under way
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode != 0
    assert "KeyboardInterrupt" in stderr and "SIGTERM" in stderr
    assert sorted(os.listdir(tmp_path)) == ["data.h5"]
    assert target.read_bytes() == b"the old, complete file"


_SLOW_ATOMIC = textwrap.dedent("""
    import sys, time
    from sk_clustermass._utils import atomic_path

    with atomic_path(sys.argv[1]) as temporary:
        temporary.write_text("half")
        print("writing", flush=True)
        time.sleep(60)
""")


def test_sigterm_during_any_atomic_write_removes_the_temporary_file(tmp_path):
    """Issue 27.10: every writer goes through atomic_path (tables, FITS, models)."""
    target = tmp_path / "table.ecsv"
    env = dict(os.environ, PYTHONPATH=REPO)
    child = subprocess.Popen([sys.executable, "-c", _SLOW_ATOMIC, str(target)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
    try:
        assert child.stdout.readline().strip() == "writing"
        time.sleep(0.1)
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    assert "KeyboardInterrupt" in stderr
    assert sorted(os.listdir(tmp_path)) == []
