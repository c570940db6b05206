"""The command line starts without PyTorch (or pandas): ``--version`` and ``--help`` answer at once,
and ``import sk_clustermass`` loads the estimators only when they are first used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import sk_clustermass

HEAVY = ("torch", "skorch", "sklearn", "pandas")

RUNNER = """
import json, sys
from sk_clustermass.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "loaded": [m for m in HEAVY if m in sys.modules]}))
""".replace("HEAVY", repr(HEAVY))


def _run(*args: str) -> dict:
    result = subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True,
                            text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("train", "--help"),
                                  ("predict", "--help"), ("demo", "--help")])
def test_version_and_help_answer_without_torch(args):
    outcome = _run(*args)
    assert outcome == {"code": 0, "loaded": []}


def test_python_m_version_prints_the_version_without_torch():
    code = ("import runpy, sys; sys.argv = ['sk-clustermass', '--version']\n"
            "try:\n    runpy.run_module('sk_clustermass.cli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.stdout.split() == ["sk-clustermass", sk_clustermass.__version__, "False"]


def test_import_loads_no_torch_until_an_estimator_is_used():
    code = ("import sys, sk_clustermass\n"
            "before = 'torch' in sys.modules\n"
            "from sk_clustermass import ClusterMassRegressor\n"
            "print(before, 'torch' in sys.modules, ClusterMassRegressor.__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.stdout.split() == ["False", "True", "ClusterMassRegressor"], result.stderr


@pytest.mark.parametrize("package", ["sk_clustermass", "sk_clustermass.estimator",
                                     "sk_clustermass.models"])
def test_lazy_names_are_all_listed_and_importable(package):
    module = __import__(package, fromlist=["__all__"])
    for name in module.__all__:
        assert name in dir(module), name
        assert getattr(module, name) is not None, name
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        module.no_such_name  # noqa: B018


def test_root_names_are_the_subpackages_objects():
    from sk_clustermass import ClusterMassRegressor, EnsembleRegressor, load_model
    from sk_clustermass.estimator import ClusterMassRegressor as estimator_regressor
    from sk_clustermass.models import load_model as models_load_model
    from sk_clustermass.uncertainty import EnsembleRegressor as ensemble

    assert ClusterMassRegressor is estimator_regressor
    assert load_model is models_load_model and EnsembleRegressor is ensemble
    assert sk_clustermass.estimator.ClusterMassRegressor is estimator_regressor


def test_optimizers_map_names_to_torch_classes():
    import torch

    from sk_clustermass.estimator._parameters import OPTIMIZERS

    assert list(OPTIMIZERS) == ["adam", "adamw", "sgd", "rmsprop"] and len(OPTIMIZERS) == 4
    assert OPTIMIZERS["adamw"] is torch.optim.AdamW and OPTIMIZERS["sgd"] is torch.optim.SGD
    assert dict(OPTIMIZERS)["rmsprop"] is torch.optim.RMSprop
    with pytest.raises(KeyError):
        OPTIMIZERS["lbfgs"]
