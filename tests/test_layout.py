"""The package's layout rules: public paths in docs and examples, no private names
crossing sub-packages, a short root. The layers themselves are import-linter's contract
(``lint-imports``, configured in pyproject.toml)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import sk_clustermass

PACKAGE = Path(sk_clustermass.__file__).parent
REPO = PACKAGE.parent
#: Root-level leaf modules every sub-package may import from (the X contract, helpers).
SHARED_LEAVES = {"_inputs", "_utils", "_version"}
PRIVATE_PATH = re.compile(r"sk_clustermass(?:\.\w+)*\._[a-z]\w*")


def _subpackage(module: str) -> str:
    """'sk_clustermass.estimator._net' -> 'estimator'; root modules -> their own name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _cross_package_private_imports() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            target = _absolute(module, node, path.name == "__init__.py")
            here, there = _subpackage(module), _subpackage(target)
            if not target.startswith("sk_clustermass") or here == there:
                continue
            names = [alias.name for alias in node.names]
            if target == "sk_clustermass":
                # `from .. import studies` imports a sub-package: fine; a name defined in
                # the root (`from .. import ClusterMassRegressor`) makes a cycle.
                found += [f"{module}: imports {name} from the package root" for name in names
                          if not (PACKAGE / name).is_dir()]
                continue
            deeper = target.split(".")[2:] if there in SHARED_LEAVES else target.split(".")[1:]
            if any(part.startswith("_") for part in deeper):
                found.append(f"{module}: from {target} import {', '.join(names)}")
            found += [f"{module}: {target}.{name}" for name in names
                      if name.startswith("_") and name != "__version__"]
    return found


def test_no_private_name_crosses_a_subpackage():
    assert _cross_package_private_imports() == []


def test_root_reads_as_a_map():
    entries = sorted(p.name for p in PACKAGE.iterdir()
                     if p.name != "__pycache__" and (p.suffix == ".py" or p.is_dir()))
    entries.remove("__init__.py")
    assert len(entries) <= 19, entries


def test_the_simulator_loads_no_file_format():
    """``import sk_clustermass.simulate`` (and the package root) loads nothing of ``io``.

    The other direction (``io`` without ``simulate``) is import-linter's contract only:
    the package root loads the simulator through the estimator's tables.
    """
    code = ("import sys, sk_clustermass.simulate; "
            "print(sorted(m for m in sys.modules if m.startswith('sk_clustermass.io')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.stdout.strip() == "[]", result.stderr


def _docstring_examples() -> list[tuple[str, str]]:
    lines = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith((">>>", "...")):
                lines.append((f"{path.relative_to(REPO)}:{number}", line))
    return lines


def _user_facing_lines() -> list[tuple[str, str]]:
    lines = _docstring_examples()
    files = [*REPO.glob("docs/*.md"), *REPO.glob("docs/*.rst"), *REPO.glob("examples/*.py"),
             REPO / "README.md"]
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            lines.append((f"{path.relative_to(REPO)}:{number}", line))
    return lines


def test_docs_examples_and_docstrings_use_public_paths():
    offenders = [f"{where}: {line.strip()}" for where, line in _user_facing_lines()
                 if PRIVATE_PATH.search(line)]
    assert offenders == []


def test_the_import_graph_has_no_circle():
    """No module reaches itself through imports, lazy (function-level) ones included:
    grimp reads every import statement of the package, wherever it stands."""
    import grimp

    graph = grimp.build_graph("sk_clustermass")
    circles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                circles.append((module, imported))
    assert circles == []
