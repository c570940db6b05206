"""Resource limits and early checks of the command line (issue 27.7, 27.9, 27.14).

Nothing here may allocate what a bad option asks for: the checks must come before the
data is read, so the tests make reading the data an error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sk_clustermass.cli import main
from sk_clustermass.datasets import make_clusters, write_hdf5

TINY_NETWORK = ["--n-filters", "2", "--kernel-size", "3", "--conv-layers", "1",
                "--pool-size", "4", "--dense-layers", "4", "--patience", "none",
                "--max-epochs", "1", "--validation-fraction", "0"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("limits")
    X, y = make_clusters(12, random_state=4, chunk_size=64)
    write_hdf5(folder / "c.h5", X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # y in Msun: what the test is about
        write_hdf5(folder / "msun.h5", X, 10 ** y)
    return folder


@pytest.fixture
def unreadable_data(monkeypatch):
    """Reading a data file fails the test: what is checked must be checked before."""
    import sk_clustermass.io

    def refuse(*args, **kwargs):
        raise AssertionError("the data was read before the options were checked")

    monkeypatch.setattr(sk_clustermass.io, "read_hdf5", refuse)


def _error(capsys, *argv: str) -> str:
    code = main([*argv, "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(("option", "value", "named"), [
    ("--n-filters", "30000", "n_filters"),
    ("--dense-layers", "3000000000", "dense_layers"),
    ("--lr", "1e300", "lr"),
])
def test_train_refuses_an_oversized_network_before_reading_data(data, tmp_path, capsys,
                                                                unreadable_data, option,
                                                                value, named):
    """--n-filters 30000 and --dense-layers 3000000000 reached the allocator after the
    data was read (killed for memory, or 'can't allocate 972000000000 bytes'); --lr 1e300
    ended in an unexplained RuntimeError."""
    line = _error(capsys, "train", str(data / "c.h5"), option, value,
                  "-o", str(tmp_path / "m.safetensors"))
    assert named in line and ("at most" in line or "<= 100" in line), line
    assert not (tmp_path / "m.safetensors").exists()


def test_simulate_caps_the_chunk_size_at_n(tmp_path, monkeypatch):
    """--chunk-size 1000000000 allocated a billion clusters' arrays until killed."""
    from sk_clustermass.simulate import _chunks

    real, sizes = _chunks._run_chunk, []

    def spy(root, first, n, *args):
        sizes.append(n)
        if n > 64 * 16:  # one seed block, times the survey's parents per detection
            raise AssertionError(f"a chunk of {n} clusters for -n 3")
        return real(root, first, n, *args)

    monkeypatch.setattr(_chunks, "_run_chunk", spy)
    output = tmp_path / "s.h5"
    assert main(["simulate", "-n", "3", "--chunk-size", "1000000000", "--random-state", "2",
                 "-o", str(output), "--quiet"]) == 0
    from sk_clustermass.datasets import read_hdf5

    assert len(read_hdf5(output)[1]) == 3 and max(sizes) <= 64 * 16


def test_make_clusters_does_not_depend_on_a_capped_chunk_size():
    X, y = make_clusters(3, random_state=5, chunk_size=10**9)
    X64, y64 = make_clusters(3, random_state=5, chunk_size=64)
    np.testing.assert_array_equal(y, y64)
    np.testing.assert_array_equal(X["images"], X64["images"])


def test_evaluate_refuses_masses_in_msun_before_writing_anything(data, tmp_path, capsys):
    """Targets in Msun (~1e14) hit 'MemoryError: Unable to allocate 14.0 PiB' in the
    binned tables, leaving a half-written folder."""
    from sk_clustermass import ClusterMassRegressor, save_model
    from sk_clustermass.datasets import read_hdf5

    X, y, _ = read_hdf5(data / "c.h5")
    model = ClusterMassRegressor(n_filters=2, kernel_size=3, conv_layers=(1,), pool_size=4,
                                 dense_layers=(4,), max_epochs=1, patience=None,
                                 validation_fraction=0.0, random_state=0).fit(X, y)
    save_model(model, tmp_path / "m.safetensors")
    folder = tmp_path / "evaluation"
    line = _error(capsys, "evaluate", str(tmp_path / "m.safetensors"), str(data / "msun.h5"),
                  "-o", str(folder))
    assert "not log10(M500c / Msun)" in line and "np.log10" in line
    assert not folder.exists()


def test_binned_metrics_refuse_masses_in_msun():
    from sk_clustermass.metrics import binned_metrics

    masses = 10 ** np.linspace(13.5, 14.5, 20)
    with pytest.raises(ValueError, match="not log10"):
        binned_metrics(masses, masses, 0.1)


# ------------------------------------------------------------------- 27.9: long names
def test_train_saves_under_the_longest_name_the_file_system_allows(data, tmp_path):
    """A valid 247-character output failed with ENAMETOOLONG after training (the
    temporary name added 29 characters), and the model was lost."""
    from sk_clustermass import load_model
    from sk_clustermass._utils import name_max

    output = tmp_path / ("m" * (name_max(tmp_path) - len(".safetensors")) + ".safetensors")
    assert main(["train", str(data / "c.h5"), *TINY_NETWORK, "-o", str(output),
                 "--quiet"]) == 0
    assert load_model(output) is not None
    assert sorted(path.name for path in tmp_path.iterdir()) == [output.name]


def test_train_refuses_a_name_too_long_before_reading_data(data, tmp_path, capsys,
                                                           unreadable_data):
    from sk_clustermass._utils import name_max

    output = tmp_path / ("m" * name_max(tmp_path) + ".safetensors")
    line = _error(capsys, "train", str(data / "c.h5"), *TINY_NETWORK, "-o", str(output))
    assert "NAME_MAX" in line
