"""The package ships what a published package must: its licence, a citation, type hints."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest

import sk_clustermass
from sk_clustermass._version import __version__

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(sk_clustermass.__file__).resolve().parent


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_is_an_spdx_expression_with_the_license_file_shipped():
    project = _pyproject()["project"]
    assert project["license"] == "BSD-3-Clause"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("BSD 3-Clause License")
    assert "sk_clustermass developers" in text
    assert "Neither the name of the copyright holder" in text


def test_setuptools_in_the_build_requirements_understands_spdx_licenses():
    # license = "<SPDX>" and license-files need setuptools >= 77 (PEP 639).
    requires = _pyproject()["build-system"]["requires"]
    assert "setuptools>=77" in requires


def test_py_typed_marks_the_package_as_typed_and_ships():
    assert (PACKAGE / "py.typed").is_file()
    package_data = _pyproject()["tool"]["setuptools"]["package-data"]
    assert "py.typed" in package_data["sk_clustermass"]


def test_installed_metadata_carries_the_license_expression():
    try:
        metadata = importlib.metadata.metadata("sk_clustermass")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("sk_clustermass is not installed (run from a source tree)")
    if metadata.get("License-Expression") is None:
        pytest.skip("installed before the SPDX license string; reinstall with pip install -e .")
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert "LICENSE" in (metadata.get_all("License-File") or [])


def test_citation_file_is_valid_cff_with_the_package_version():
    yaml = pytest.importorskip("yaml")
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):
        assert citation[key], key
    assert citation["authors"] == [{"name": "sk_clustermass developers"}]
    assert citation["license"] == _pyproject()["project"]["license"]
    assert str(citation["version"]) == __version__
    assert citation["type"] == "software"
