"""Safe model files: save_model / load_model."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_clustermass import ClusterMassRegressor, load_model, save_model
from sk_clustermass.models._integrity import payload_checksums
from sk_clustermass.preprocessing import BandNormalizer, LogStretch


@pytest.fixture(scope="module")
def fitted_pipeline(toy_data, tiny_params):
    X, y = toy_data
    pipe = make_pipeline(LogStretch(), BandNormalizer(),
                         ClusterMassRegressor(**dict(tiny_params, test_time_augmentation=True)))
    return pipe.fit(X, y)


def test_round_trip_predicts_identically(fitted_pipeline, toy_data, tmp_path):
    X, _ = toy_data
    path = tmp_path / "model.safetensors"
    save_model(fitted_pipeline, path)
    loaded = load_model(path)
    for expected, got in zip(fitted_pipeline.predict(X, return_std=True),
                             loaded.predict(X, return_std=True)):
        np.testing.assert_array_equal(got, expected)
    regressor = loaded[-1]
    assert regressor.get_params() == fitted_pipeline[-1].get_params()
    assert regressor.history_[:, "train_loss"] == fitted_pipeline[-1].history_[:, "train_loss"]


def test_loads_in_fresh_process_without_pickle(fitted_pipeline, toy_data, tmp_path):
    X, _ = toy_data
    path = tmp_path / "model.safetensors"
    save_model(fitted_pipeline, path)
    np.save(tmp_path / "images.npy", X["images"])
    np.save(tmp_path / "redshift.npy", X["redshift"])
    script = textwrap.dedent(
        f"""
        import pickle, numpy as np
        def refuse(*args, **kwargs):
            raise AssertionError("pickle used")
        pickle.loads = pickle.load = refuse  # loading must not unpickle anything
        from sk_clustermass import load_model
        model = load_model({str(path)!r})
        X = {{"images": np.load({str(tmp_path / 'images.npy')!r}),
              "redshift": np.load({str(tmp_path / 'redshift.npy')!r})}}
        np.save({str(tmp_path / 'out.npy')!r}, model.predict(X))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), fitted_pipeline.predict(X))


def test_single_estimator_round_trip(toy_data, tiny_params, tmp_path):
    X, y = toy_data
    model = ClusterMassRegressor(**tiny_params).fit(X, y)
    save_model(model, tmp_path / "m.safetensors")
    np.testing.assert_array_equal(load_model(tmp_path / "m.safetensors").predict(X),
                                  model.predict(X))


def test_foreign_step_is_refused(toy_data, tmp_path):
    pipe = make_pipeline(StandardScaler())
    pipe.fit(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="safe format cannot store"):
        save_model(pipe, tmp_path / "x.safetensors")


def _contents(path):
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        metadata = handle.metadata()
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    return metadata, tensors


def _craft(path, edit, *, checksums=True):
    """Rewrite a model file after ``edit(spec, tensors, metadata)``, as an attacker would:
    with checksums recomputed, so that only the later checks can catch it."""
    metadata, tensors = _contents(path)
    spec = json.loads(metadata["spec"])
    edit(spec, tensors, metadata)
    if spec is not None and "spec" in metadata:
        metadata["spec"] = json.dumps(spec)
    if checksums and "spec" in metadata:
        metadata["checksums"] = payload_checksums(metadata["spec"], tensors)
    save_file(tensors, str(path), metadata=metadata)


def test_file_naming_other_code_is_refused(fitted_pipeline, tmp_path):
    path = tmp_path / "model.safetensors"
    save_model(fitted_pipeline, path)

    def rename(spec, tensors, metadata):
        spec["steps"][0]["class"] = "os.system"

    _craft(path, rename)
    with pytest.raises(ValueError, match="refusing to load"):
        load_model(path)


def _weight_offset(path, name):
    """Byte offset of tensor ``name``'s data in a safetensors file."""
    raw = path.read_bytes()
    header_size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + header_size])
    return 8 + header_size + header[name]["data_offsets"][0]


@pytest.mark.parametrize("byte", [0, 1, 3])
def test_one_flipped_byte_in_a_weight_is_refused(fitted_pipeline, tmp_path, byte):
    path = tmp_path / "model.safetensors"
    save_model(fitted_pipeline, path)
    name = "clustermassregressor.module.output.weight"
    raw = bytearray(path.read_bytes())
    raw[_weight_offset(path, name) + byte] ^= 0x40
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"model\.safetensors.*SHA-256"):
        load_model(path)


def test_edited_description_is_refused(fitted_pipeline, tmp_path):
    path = tmp_path / "model.safetensors"
    save_model(fitted_pipeline, path)

    def tamper(spec, tensors, metadata):
        spec["steps"][-1]["attributes"]["y_mean_"] += 1.0

    _craft(path, tamper, checksums=False)
    with pytest.raises(ValueError, match=r"description.*SHA-256"):
        load_model(path)


def test_version_1_file_without_checksums_loads_only_when_allowed(fitted_pipeline, toy_data,
                                                                  tmp_path):
    """Issue 27.13: files without checksums cannot be checked for damage; they load only
    with allow_unverified=True (and saving them again adds the checksums)."""
    X, _ = toy_data
    path = tmp_path / "old.safetensors"
    save_model(fitted_pipeline, path)

    def downgrade(spec, tensors, metadata):
        metadata["format_version"] = "1"
        del metadata["checksums"]

    _craft(path, downgrade, checksums=False)
    with pytest.raises(ValueError, match=r"no checksums.*allow_unverified=True"):
        load_model(path)
    loaded = load_model(path, allow_unverified=True)
    np.testing.assert_array_equal(loaded.predict(X), fitted_pipeline.predict(X))
    save_model(loaded, path)
    assert load_model(path) is not None  # saved again: checksums, no opt-in needed


def test_a_version_downgrade_does_not_switch_the_checksums_off(fitted_pipeline, tmp_path):
    """Issue 27.13: format_version 2 -> 1 switched every check off although the
    checksums were still in the file; a damaged weight then loaded."""
    path = tmp_path / "model.safetensors"
    save_model(fitted_pipeline, path)

    def downgrade_and_damage(spec, tensors, metadata):
        metadata["format_version"] = "1"
        tensors["clustermassregressor.module.output.bias"] += 1.0

    _craft(path, downgrade_and_damage, checksums=False)
    with pytest.raises(ValueError, match="SHA-256"):
        load_model(path)
    with pytest.raises(ValueError, match="SHA-256"):
        load_model(path, allow_unverified=True)


def _normaliser_of_one_value(spec, tensors, metadata):
    tensors["bandnormalizer.offset_"] = tensors["bandnormalizer.offset_"][:1].copy()


def _unknown_attribute(spec, tensors, metadata):
    spec["steps"][-1]["attributes"]["predict"] = 1.0


def _evil_attribute(spec, tensors, metadata):
    spec["steps"][1]["attributes"]["__class__"] = "os"


def _huge_target_scale(spec, tensors, metadata):
    spec["steps"][-1]["attributes"]["y_scale_"] = 1e300


def _target_in_msun(spec, tensors, metadata):
    spec["steps"][-1]["attributes"]["y_mean_"] = 1e14


def _nan_width_factor(spec, tensors, metadata):
    spec["steps"][-1]["attributes"]["std_scale_"] = float("nan")


def _band_ranges_of_other_bands(spec, tensors, metadata):
    key = "clustermassregressor.band_total_range_"
    tensors[key] = np.concatenate([tensors[key], tensors[key]])


def _bands_contradicting_the_network(spec, tensors, metadata):
    spec["steps"][-1]["attributes"]["n_bands_in_"] += 1


@pytest.mark.parametrize("edit", [_normaliser_of_one_value, _unknown_attribute,
                                  _evil_attribute, _huge_target_scale, _target_in_msun,
                                  _nan_width_factor, _band_ranges_of_other_bands,
                                  _bands_contradicting_the_network])
def test_crafted_statistics_and_attributes_are_refused(fitted_pipeline, tmp_path, edit):
    """Issue 27.13: with checksums recomputed, a normaliser of the wrong shape (it
    broadcast), arbitrary attribute names and y_scale_ = 1e300 were accepted."""
    path = tmp_path / "crafted.safetensors"
    save_model(fitted_pipeline, path)
    _craft(path, edit)
    with pytest.raises(ValueError, match=r"crafted\.safetensors"):
        load_model(path)


def test_checkpoint_dir_is_not_taken_from_a_file(fitted_pipeline, tmp_path):
    """Issue 27.13: a file could point a later fit's checkpoints anywhere; the folder of
    the training machine is neither written to files nor read from them."""
    path = tmp_path / "model.safetensors"
    fitted_pipeline[-1].set_params(checkpoint_dir=str(tmp_path / "mine"))
    try:
        save_model(fitted_pipeline, path)
    finally:
        fitted_pipeline[-1].set_params(checkpoint_dir=None)
    assert "mine" not in json.dumps(_contents(path)[0])

    def point_elsewhere(spec, tensors, metadata):
        spec["steps"][-1]["params"]["checkpoint_dir"] = "/somewhere/else"

    _craft(path, point_elsewhere)
    assert load_model(path)[-1].checkpoint_dir is None


def _drop_spec(spec, tensors, metadata):
    del metadata["spec"]


def _reshape_weight(spec, tensors, metadata):
    name = "clustermassregressor.module.output.weight"
    tensors[name] = np.zeros((3, tensors[name].shape[1]), dtype=tensors[name].dtype)


def _huge_dense_layer(spec, tensors, metadata):
    spec["steps"][-1]["module_params"]["dense_layers"] = {"__tuple__": [10**9, 16]}


def _missing_kind(spec, tensors, metadata):
    del spec["kind"]


def _missing_attributes(spec, tensors, metadata):
    del spec["steps"][0]["attributes"]


def _bad_parameter(spec, tensors, metadata):
    spec["steps"][-1]["params"]["no_such_parameter"] = 1


@pytest.mark.parametrize("edit", [_drop_spec, _reshape_weight, _huge_dense_layer,
                                  _missing_kind, _missing_attributes, _bad_parameter])
def test_crafted_file_is_one_clear_error_naming_it(fitted_pipeline, tmp_path, edit):
    path = tmp_path / "crafted.safetensors"
    save_model(fitted_pipeline, path)
    _craft(path, edit)
    with pytest.raises(ValueError, match=r"crafted\.safetensors"):
        load_model(path)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error(fitted_pipeline, tmp_path):
    path = tmp_path / "model.safetensors"
    save_model(fitted_pipeline, path)
    with pytest.raises(ValueError, match=r"model\.safetensors.*device='cpu'"):
        load_model(path, device="cuda")


@pytest.mark.parametrize("content", [b"", b"garbage" * 10, b"\x08\x00\x00\x00\x00\x00\x00\x00{}"])
def test_damaged_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"bad\.safetensors"):
        load_model(path)


def test_unfitted_model_is_refused(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        save_model(ClusterMassRegressor(), tmp_path / "m.safetensors")


def test_user_callbacks_are_dropped_and_named(toy_data, tiny_params, tmp_path):
    from safetensors import safe_open
    from skorch.callbacks import EpochScoring, PrintLog

    X, y = toy_data
    scoring = EpochScoring("r2", lower_is_better=False, name="valid_r2")
    model = ClusterMassRegressor(**dict(tiny_params, max_epochs=1, validation_fraction=0.2),
                                 callbacks=[("valid_r2", scoring), PrintLog()])
    model.fit(X[:60], y[:60])
    path = tmp_path / "model.safetensors"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.callbacks is None and model.callbacks is not None  # the original keeps them
    np.testing.assert_array_equal(loaded.predict(X[:60]), model.predict(X[:60]))
    with safe_open(str(path), framework="numpy") as handle:
        spec = json.loads(handle.metadata()["spec"])
    assert spec["steps"][0]["dropped_callbacks"] == ["valid_r2", "PrintLog"]


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs POSIX FIFOs")
def test_loading_a_fifo_is_refused_at_once(tmp_path):
    """Issue 27.8: load_model on a FIFO blocked forever (SIGALRM could not interrupt it)."""
    import os

    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    code = f"from sk_clustermass import load_model; load_model({str(fifo)!r})"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0 and "is not a regular file" in result.stderr


def test_every_savable_estimator_passes_the_load_checks(tmp_path):
    """The allow-list of fitted attributes (models/_content_checks.py) must cover what
    save_model writes for every estimator of the contract suite."""
    from tests.test_contract import ALL_CASES, PIPELINE_REGRESSOR, make_toy_clusters

    X, y = make_toy_clusters(40, seed=3)
    for case in ALL_CASES:
        if case.name == "BoostedApertureRegressor":  # holds scikit-learn trees: joblib only
            continue
        step = case.factory()
        model = step if case.is_regressor else make_pipeline(
            step, ClusterMassRegressor(**dict(PIPELINE_REGRESSOR, max_epochs=1)))
        model.fit(X, y)
        path = tmp_path / f"{case.name}.safetensors"
        save_model(model, path)
        np.testing.assert_array_equal(load_model(path).predict(X), model.predict(X))
