"""The parameter table of ClusterMassRegressor: complete, checked, and the one source of
the validation, the command-line options, the docs table and the checkpoint fingerprint."""

from __future__ import annotations

import importlib.util
import inspect
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpydoc.docscrape import ClassDoc

from sk_clustermass import ClusterMassRegressor
from sk_clustermass.estimator import (
    Parameter,
    fingerprint_ignored,
    parameter_defaults,
    parameter_table,
    parameter_table_markdown,
    routed_parameters,
    validate_parameters,
)
from sk_clustermass.estimator._parameters import fingerprint_parameters


def test_one_entry_per_constructor_parameter_in_signature_order():
    names = [parameter.name for parameter in parameter_table()]
    assert names == list(inspect.signature(ClusterMassRegressor).parameters)
    assert set(names) == set(ClusterMassRegressor().get_params())


def test_docstring_documents_every_entry():
    documented = [item.name for item in ClassDoc(ClusterMassRegressor)["Parameters"]]
    assert documented == [parameter.name for parameter in parameter_table()]


def test_defaults_are_valid():
    validate_parameters(ClusterMassRegressor(), (50, 50))


def test_fingerprint_ignores_only_how_a_fit_runs():
    # precision is replaced in the fingerprint by the resolved precision_ (bf16 only).
    # regularization and regularize, old names, count as their new names' values.
    expected = {"verbose", "callbacks", "checkpoint_dir", "checkpoint_every", "device",
                "malloc_tuning", "n_threads", "precision", "compile", "warm_start",
                "regularization", "regularize"}
    assert fingerprint_ignored() == expected


# ---------------------------------------------------------------- every range (issue 19)
ABSURD = [
    ({"grad_clip": -1.0}, "grad_clip must be a finite number > 0 or None; got -1.0"),
    ({"grad_clip": 0.0}, "grad_clip must be a finite number > 0"),
    ({"lr_schedule": "cosine", "lr_final": -1.0}, "lr_final must be a finite number >= 0"),
    ({"lr_schedule": "exponential", "lr_final": 1e-2}, r"lr_final=0.01 .*below lr=0.001"),
    ({"lr_schedule": "exponential", "lr_final": 0.0}, r"must be > 0 and below lr"),
    ({"lr_schedule": "cosine", "lr_final": 1e-3}, r"must be >= 0 and below lr=0.001"),
    ({"momentum": 5.0}, r"momentum must be a finite number >= 0 and < 1; got 5.0"),
    ({"momentum": -0.1}, "momentum must be"),
    ({"verbose": -1}, "verbose must be an integer >= 0"),
    ({"verbose": 0.5}, "verbose must be an integer"),
    ({"checkpoint_every": 0}, "checkpoint_every must be an integer > 0"),
    ({"n_threads": 0}, "n_threads must be an integer > 0 or None"),
    ({"lr": 0.0}, "lr must be a finite number > 0"),
    ({"lr": float("nan")}, "lr must be a finite number > 0"),
    ({"regularizer_strength": -1e-4}, "regularizer_strength must be a finite number >= 0"),
    ({"weight_decay": -1.0}, "weight_decay must be"),
    ({"batch_size": 2.5}, "batch_size must be an integer > 0"),
    ({"max_epochs": True}, "max_epochs must be an integer"),
    ({"patience": 0}, "patience must be an integer > 0 or None"),
    ({"validation_fraction": 1.0}, "validation_fraction must be a finite number >= 0 and < 1"),
    ({"dense_layers": (64, 0)}, "every entry of dense_layers must be an integer > 0"),
    ({"conv_layers": ()}, "conv_layers must have at least 1 entry"),
    ({"use_redshift": "yes"}, "use_redshift must be True or False"),
    ({"augment": 1}, "augment must be True or False"),
    ({"device": "gpu"}, r"device='gpu' is not supported; choose one of \['cpu', 'cuda'"),
    ({"callbacks": "progress"}, "callbacks must be a list of skorch callbacks or None"),
    ({"checkpoint_dir": 3}, "checkpoint_dir must be a str or path or None"),
]


@pytest.mark.parametrize(("change", "match"), ABSURD,
                         ids=lambda value: str(value) if isinstance(value, dict) else "")
def test_absurd_values_are_refused_before_training(toy_data, tiny_params, change, match):
    X, y = toy_data
    model = ClusterMassRegressor(**{**tiny_params, **change})
    with pytest.raises(ValueError, match=match):
        model.fit(X, y)
    assert not hasattr(model, "net_")


@pytest.mark.parametrize("value", ["seed", -1, 2**32, 1.5, True])
def test_random_state_is_checked_with_the_rest(value):
    with pytest.raises(ValueError, match=r"random_state must be an int in .* RandomState or None"):
        validate_parameters(ClusterMassRegressor(random_state=value))


@pytest.mark.parametrize("change", [
    {"grad_clip": 1e-3}, {"lr_schedule": "cosine", "lr_final": 0.0},
    {"lr_schedule": "exponential", "lr_final": 1e-4}, {"momentum": 0.0}, {"verbose": 2},
    {"random_state": np.random.RandomState(0)}, {"patience": None},
    {"n_filters": np.int64(4)}, {"lr": np.float32(1e-3)}, {"use_redshift": np.bool_(False)},
    {"lr_final": 5.0},  # no schedule: lr_final is not used
    {"checkpoint_dir": "ckpt", "callbacks": []},
])
def test_sensible_values_pass(change):
    validate_parameters(ClusterMassRegressor(**change), (50, 50))


def test_collapsing_feature_map_names_the_parameters():
    with pytest.raises(ValueError, match="kernel_size=17"):
        validate_parameters(ClusterMassRegressor(kernel_size=17), (50, 50))
    validate_parameters(ClusterMassRegressor(kernel_size=17))  # no image shape: no check


# ---------------------------------------------------------------- one source of truth
WARMUP = Parameter("warmup_epochs", "int", 3, "epochs of linear learning-rate warm-up",
                   "optimisation", "callbacks", low=0)


@pytest.fixture
def extended_table(monkeypatch):
    """The table with one more entry, added in one place only."""
    from sk_clustermass.estimator import _parameters

    monkeypatch.setattr(_parameters, "PARAMETERS", (*_parameters.PARAMETERS, WARMUP))
    return _parameters.PARAMETERS


def test_defaults_docstring_and_signature_are_the_tables():
    defaults = parameter_defaults()
    assert ClusterMassRegressor().get_params() == defaults
    for item in ClassDoc(ClusterMassRegressor)["Parameters"]:
        assert item.type.endswith(f"default={defaults[item.name]!r}"), item.name


def test_a_new_entry_is_in_the_docs_table(extended_table):
    table = parameter_table_markdown()
    row = next(line for line in table.splitlines() if "`warmup_epochs`" in line)
    assert row == ("| `warmup_epochs` | `3` | int >= 0 | epochs of linear learning-rate "
                   "warm-up |")
    assert table.index("**Optimisation**") < table.index("`warmup_epochs`")


def test_a_new_entry_leaves_the_fingerprint_unless_marked(extended_table, monkeypatch):
    from sk_clustermass.estimator import _parameters

    assert "warmup_epochs" not in fingerprint_ignored()
    quiet = replace(WARMUP, fingerprint=False)
    monkeypatch.setattr(_parameters, "PARAMETERS", (*_parameters.PARAMETERS[:-1], quiet))
    assert "warmup_epochs" in fingerprint_ignored()


def test_late_entries_leave_the_fingerprint_at_their_default():
    params = ClusterMassRegressor().get_params()
    kept = fingerprint_parameters(params)
    assert "negative_slope" not in kept and "use_exposure" not in kept and "n_filters" in kept
    changed = fingerprint_parameters({**params, "negative_slope": 0.2, "use_exposure": True})
    assert changed["negative_slope"] == 0.2 and changed["use_exposure"] is True


# Non-default values for every entry routed to the network: each must arrive there.
NETWORK_VALUES = {"n_filters": 3, "kernel_size": 3, "conv_layers": (1,), "pool_size": 2,
                  "padding": "same", "dense_layers": (5,), "dropout": 0.1,
                  "negative_slope": 0.2, "use_redshift": False}


def test_every_network_entry_reaches_the_module(toy_data, tiny_params):
    routed = {p.name for p in parameter_table() if p.route == "network"}
    assert routed == set(NETWORK_VALUES)  # a new network entry needs a value here
    X, y = toy_data
    model = ClusterMassRegressor(**{**tiny_params, **NETWORK_VALUES, "max_epochs": 1}).fit(X, y)
    received = model.net_.get_params_for("module")
    assert {name: received[name] for name in NETWORK_VALUES} == NETWORK_VALUES
    activation = model.net_.module_.activation
    assert activation.negative_slope == 0.2
    assert model.net_.module_.features[0].out_channels == 3


def test_net_and_optimizer_entries_reach_the_loop(toy_data, tiny_params):
    X, y = toy_data
    settings = {**tiny_params, "optimizer": "sgd", "momentum": 0.5, "weight_decay": 1e-3,
                "lr": 2e-3, "regularizer": "l2", "regularizer_strength": 1e-3, "max_epochs": 1}
    net = ClusterMassRegressor(**settings).fit(X, y).net_
    group = net.optimizer_.param_groups[0]
    assert (group["momentum"], group["weight_decay"], group["lr"]) == (0.5, 1e-3, 2e-3)
    assert (net.regularizer, net.regularization, net.max_epochs) == ("l2", 1e-3, 1)
    assert routed_parameters(ClusterMassRegressor(), "optimizer") == {"weight_decay": 0.0}


_NEW_ENTRY = """    Parameter("foreach", "bool", False, "use the optimizer's multi-tensor kernels",
              "execution", "optimizer", fingerprint=False),
"""
_CHECK_NEW_ENTRY = """
import contextlib, io
import numpy as np
from numpydoc.docscrape import ClassDoc
from sk_clustermass import ClusterMassRegressor, as_inputs
from sk_clustermass.cli import build_parser
from sk_clustermass.estimator import parameter_table_markdown, validate_parameters

model = ClusterMassRegressor(foreach=True)
assert model.get_params()["foreach"] is True and ClusterMassRegressor().foreach is False
try:
    validate_parameters(ClusterMassRegressor(foreach="yes"))
    raise SystemExit("not validated")
except ValueError as error:
    assert "foreach must be True or False" in str(error), error
rng = np.random.default_rng(0)
X = as_inputs(rng.poisson(2.0, (24, 2, 12, 12)), rng.uniform(0.1, 1.0, 24))
y = rng.uniform(13.0, 15.0, 24)
tiny = dict(n_filters=2, kernel_size=3, conv_layers=(1,), pool_size=2, dense_layers=(4,),
            max_epochs=1, patience=None, validation_fraction=0.0, random_state=0)
fitted = ClusterMassRegressor(foreach=True, **tiny).fit(X, y)
assert fitted.net_.optimizer_.defaults["foreach"] is True
args = build_parser().parse_args(["train", "data.h5", "--foreach"])
assert args.hp_foreach is True
text = io.StringIO()
with contextlib.redirect_stdout(text), contextlib.suppress(SystemExit):
    build_parser().parse_args(["train", "--help"])
assert "--foreach" in text.getvalue()
assert "| `foreach` | `False` | bool |" in parameter_table_markdown()
documented = {item.name: item.type for item in ClassDoc(ClusterMassRegressor)["Parameters"]}
assert documented["foreach"] == "bool, default=False"
print("routed")
"""


def test_a_new_table_entry_reaches_everything_with_no_other_edit(tmp_path):
    """One entry added to the table's source, nothing else: the constructor, its
    docstring, validation, the optimizer it routes to, the command line and the docs
    table all have it (in a copy of the package, run in a fresh interpreter)."""
    import shutil
    import subprocess
    import sys

    import sk_clustermass

    package = Path(sk_clustermass.__file__).parent
    copy = tmp_path / "sk_clustermass"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "*.safetensors"))
    table = copy / "estimator" / "_parameters.py"
    source = table.read_text(encoding="utf-8")
    end = "\n)\n\n\ndef parameter_table()"
    assert source.count(end) == 1
    table.write_text(source.replace(end, "\n" + _NEW_ENTRY.rstrip("\n") + end), "utf-8")
    result = subprocess.run([sys.executable, "-c", _CHECK_NEW_ENTRY], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(tmp_path)},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "routed"


def test_constraint_texts():
    by_name = {parameter.name: parameter for parameter in parameter_table()}
    assert by_name["dropout"].constraint == "float >= 0 and < 1"
    assert by_name["padding"].constraint == "{'valid', 'same'}"
    assert by_name["patience"].constraint == "int > 0 or None"
    assert by_name["n_filters"].option == "--n-filters"


# ---------------------------------------------------------------- command line and docs
DOCS = Path(__file__).resolve().parents[1] / "docs"


def _train_help(capsys) -> str:
    from sk_clustermass.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    return capsys.readouterr().out


def _estimator_page() -> str:
    """docs/estimator.md as Sphinx reads it: with the generated table filled in."""
    spec = importlib.util.spec_from_file_location("_docs_conf", DOCS / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    source = [(DOCS / "estimator.md").read_text(encoding="utf-8")]
    conf._fill_generated_pages(None, "estimator", source)
    return source[0]


def test_every_parameter_but_python_objects_has_an_option_of_its_name(capsys):
    text = _train_help(capsys)
    offered = {p.name for p in parameter_table() if p.cli or p.route == "deprecated"}
    # callbacks are Python objects; warm_start needs a fitted model, which train has not;
    # on the command line -v/--verbose is the logging level of the command itself.
    assert set(ClusterMassRegressor().get_params()) - offered == {"callbacks", "warm_start",
                                                                  "verbose"}
    for parameter in parameter_table():
        if parameter.name == "verbose":  # the command's own -v/--verbose (logging)
            continue
        assert (f"{parameter.option} " in text) == parameter.cli, parameter.name
    assert "filters in every convolution (default: 20)" in " ".join(text.split())


def test_options_read_what_the_table_allows():
    from sk_clustermass.cli import build_parser

    args = build_parser().parse_args([
        "train", "data.h5", "--conv-layers", "3,2", "--lr-final", "none",
        "--regularizer", "none", "--no-augment", "--batch-size", "32", "--random-state", "4"])
    assert (args.hp_conv_layers, args.hp_lr_final, args.hp_regularizer) == ((3, 2), None, None)
    assert (args.hp_augment, args.hp_batch_size, args.random_state) == (False, 32, 4)
    assert not hasattr(args, "hp_n_filters")  # unset options leave the config file's values


def test_every_parameter_is_in_the_docs_table():
    page = _estimator_page()
    assert "<!-- parameter-table -->" not in page
    for parameter in parameter_table():
        listed = f"| `{parameter.name}` |" in page
        assert listed == (parameter.route != "deprecated"), parameter.name


def test_a_pickle_from_before_a_parameter_existed_takes_its_default():
    import pickle

    model = ClusterMassRegressor(n_filters=7)
    del model.negative_slope  # as pickled before the parameter existed
    restored = pickle.loads(pickle.dumps(model))
    assert restored.get_params()["negative_slope"] == 0.01
    assert restored.get_params()["n_filters"] == 7


def test_old_names_of_renamed_parameters_still_work_with_a_warning(toy_data, tiny_params):
    X, y = toy_data
    old = ClusterMassRegressor(**{**tiny_params, "max_epochs": 1, "regularizer": "l2",
                                  "regularization": 1e-3, "regularize": "bias"})
    with pytest.warns(FutureWarning, match="was renamed") as caught:
        old.fit(X, y)
    messages = " ".join(str(warning.message) for warning in caught)
    assert "regularization was renamed regularizer_strength" in messages
    assert "regularize was renamed regularizer_target" in messages
    assert (old.net_.regularization, old.net_.regularize) == (1e-3, "bias")
    with pytest.raises(ValueError, match="regularizer_strength must be"):
        validate_parameters(ClusterMassRegressor(regularization=-1.0))
    # checkpoints made before the rename keep their fingerprint: the old names count
    new = fingerprint_parameters(ClusterMassRegressor(regularizer_strength=1e-3).get_params())
    assert new["regularization"] == 1e-3 and "regularizer_strength" not in new


def test_old_command_line_options_of_renamed_parameters(capsys):
    from sk_clustermass.cli import build_parser

    args = build_parser().parse_args(["train", "data.h5", "--regularization", "0.01"])
    assert args.hp_regularizer_strength == 0.01
    assert "--regularization is deprecated" in capsys.readouterr().err
