"""Sphinx configuration of the sk_clustermass documentation.

Build it with ``make docs`` (warnings are errors), or by hand::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build never touches the network (no intersphinx, no remote images). Two pages are
completed here at build time, so that pages and modules added later by anyone appear
without editing them and never break the warnings-as-errors build:

* ``index``: the table of contents lists the guide pages that exist, in reading order
  (:data:`GUIDE_ORDER`), then any other top-level page;
* ``api``: one section per public module that imports and has ``__all__``
  (:data:`API_MODULES`), one entry per name in ``__all__``.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from types import ModuleType
from typing import Any

os.environ.setdefault("MPLBACKEND", "Agg")  # autodoc imports sk_clustermass.plotting

from sphinx.util import logging

import sk_clustermass

_LOGGER = logging.getLogger(__name__)

# ---------------------------------------------------------------------- project
project = "sk_clustermass"
author = "sk_clustermass developers"
copyright = "2026, sk_clustermass developers"
release = sk_clustermass.__version__
version = release

# ---------------------------------------------------------------------- general
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_copybutton",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []
default_role = "literal"  # `x` in reST docstrings is code, as in Markdown

# MyST: $math$, ::: fences, definition lists, anchors for ## and ### headings.
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# autodoc + numpydoc: the docstrings carry types and shapes, so signatures stay short.
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# sphinx-copybutton: copy code without the >>> / ... prompts and without outputs.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True

# ---------------------------------------------------------------------- HTML
html_theme = "furo"
html_title = f"sk_clustermass {release}"
html_static_path: list[str] = []
html_show_sourcelink = True

# ---------------------------------------------------------------------- table of contents
#: Guide pages in reading order; those that do not exist (yet) are left out.
GUIDE_ORDER = [
    "getting_started",
    "conventions",
    "simulator",
    "estimator",
    "preprocessing",
    "baselines",
    "studies",
    "results",
    "io",
    "own_data",
    "persistence",
    "scaling",
    "scaling_out",
    "distributed",
    "performance",
    "pitfalls",
]
#: Reference pages, listed last.
REFERENCE_ORDER = ["cli", "api", "changelog"]
_TOCTREE_MARKER = "<!-- guide-toctree -->"
_API_MARKER = ".. api-reference"


def _toctree(found_docs: set[str]) -> str:
    """MyST toctrees of the guide pages that exist, then of the reference pages."""
    known = set(GUIDE_ORDER) | set(REFERENCE_ORDER) | {root_doc}
    guide = [name for name in GUIDE_ORDER if name in found_docs]
    # Pages added later by anyone: top-level pages and sub-folder index pages.
    extra = sorted(
        name for name in found_docs - known
        if "/" not in name or name.endswith("/index")
    )
    reference = [name for name in REFERENCE_ORDER if name in found_docs]
    blocks = []
    for caption, names in (("User guide", guide + extra), ("Reference", reference)):
        if names:
            body = "\n".join(names)
            blocks.append(f"```{{toctree}}\n:maxdepth: 1\n:caption: {caption}\n\n{body}\n```")
    return "\n\n".join(blocks)


# ---------------------------------------------------------------------- API reference
#: Public modules documented in ``api``, in this order, when they import: (module,
#: section title, modules to document instead while the module has no ``__all__``).
API_MODULES = [
    ("sk_clustermass", "The estimator and the input contract", ()),
    ("sk_clustermass.preprocessing", "Preprocessing transformers", ()),
    ("sk_clustermass.datasets", "Data sets: simulator, readers and writers", (
        "sk_clustermass.datasets._make_clusters",
        "sk_clustermass.datasets._hdf5",
        "sk_clustermass.datasets._lab_format",
        "sk_clustermass.datasets._fits",
    )),
    ("sk_clustermass.datasets.simulate", "Simulator physics", ()),
    ("sk_clustermass.baselines", "Classical baselines", ()),
    ("sk_clustermass.metrics", "Figures of merit and scorers", ()),
    ("sk_clustermass.plotting", "Plotting", ()),
    ("sk_clustermass.studies", "The lab's studies", ()),
    ("sk_clustermass.distributed", "Scaling out", ()),
    ("sk_clustermass.cli", "Command line", ()),
]


def _import(name: str) -> ModuleType | None:
    """The module, or None if it does not exist (yet); a module that fails is a warning."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            return None  # the module (or its package) is not written yet
        _LOGGER.warning("API reference: importing %s failed: %r", name, exc)
    except Exception as exc:  # a module that is being edited must not crash the build
        _LOGGER.warning("API reference: importing %s failed: %r", name, exc)
    return None


def _data_comment(module: ModuleType, name: str) -> str:
    """The ``#:`` comment documenting ``module.name`` where it is defined."""
    from sphinx.pycode import ModuleAnalyzer, PycodeError

    value = getattr(module, name)
    prefix = module.__name__
    submodules = sorted(other for other in list(sys.modules) if other.startswith(prefix + "."))
    candidates = [module.__name__, *submodules]
    for candidate in candidates:
        source = sys.modules.get(candidate)
        if source is None or getattr(source, name, None) is not value:
            continue
        try:
            docs = ModuleAnalyzer.for_module(candidate).find_attr_docs()
        except PycodeError:
            continue
        lines = docs.get(("", name))
        if lines:
            return "\n".join(line for line in lines if line.strip())
    return ""


def _entry(module: ModuleType, name: str) -> str:
    """The reST that documents one public name of ``module``."""
    obj: Any = getattr(module, name)
    if inspect.isclass(obj):
        # Inherited methods are documented when their code is this library's (fit and
        # transform of the transformers, predict of the baselines); see _skip_member.
        return f".. autoclass:: {name}\n   :members:\n   :inherited-members:\n"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return f".. autofunction:: {name}\n"
    if inspect.ismodule(obj):
        return ""
    comment = _data_comment(module, name) or "A module-level constant."
    body = "\n".join(f"   {line}" for line in comment.splitlines())
    return f".. py:data:: {name}\n\n{body}\n"


def _public_names(module: ModuleType | None) -> list[str]:
    """The names in ``module.__all__`` (dunders left out) that the module defines."""
    names = []
    for name in getattr(module, "__all__", []):
        if name.startswith("__"):
            continue
        if not hasattr(module, name):
            _LOGGER.warning("API reference: %s.__all__ lists %r, which it does not define",
                            module.__name__, name)
            continue
        names.append(name)
    return names


def _module_section(module: ModuleType, names: list[str]) -> str:
    """automodule, a summary table and one entry per name, in reST."""
    entries = [entry for entry in (_entry(module, name) for name in names) if entry]
    summary = "\n".join(
        f"   {name}" for name in names if not inspect.ismodule(getattr(module, name))
    )
    return (
        f".. automodule:: {module.__name__}\n   :no-members:\n\n"
        f".. currentmodule:: {module.__name__}\n\n"
        f".. autosummary::\n   :nosignatures:\n\n{summary}\n\n" + "\n".join(entries)
    )


def _api_reference() -> str:
    """reST sections for every public module that imports and declares ``__all__``.

    A package without ``__all__`` yet is documented through the private modules listed
    as its fallbacks, under their own (private) names.
    """
    sections = []
    for module_name, title, fallbacks in API_MODULES:
        module = _import(module_name)
        names = _public_names(module)
        if module is not None and names:
            body = _module_section(module, names)
        else:
            parts = [(m, _public_names(m)) for m in map(_import, fallbacks) if m is not None]
            body = "\n\n".join(_module_section(m, n) for m, n in parts if n)
        if not body:
            continue
        heading = f"{title}: ``{module_name}``"
        sections.append(f"{heading}\n{'-' * len(heading)}\n\n{body}")
    return "\n\n".join(sections)


# ---------------------------------------------------------------------- hooks
def _fill_generated_pages(app, docname: str, source: list[str]) -> None:
    if docname == root_doc:
        source[0] = source[0].replace(_TOCTREE_MARKER, _toctree(set(app.env.found_docs)))
    elif docname == "api":
        source[0] = source[0].replace(_API_MARKER, _api_reference())


def _skip_member(app, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
    """Leave out methods whose code is not this library's.

    Classes are documented with their inherited members, so that ``fit`` and
    ``transform`` of the transformers (defined in a shared base class) appear; the
    methods scikit-learn, dask or Python attach to every subclass (``get_params``,
    ``set_*_request``, plugin hooks, ...) are documented by those projects, and their
    docstrings refer to their own documentation.
    """
    if what != "class":
        return None
    code = obj.fget if isinstance(obj, property) else obj
    if not (inspect.isroutine(code) or isinstance(code, property)):
        return None
    module = getattr(inspect.unwrap(code), "__module__", None) or ""
    if module != "sk_clustermass" and not module.startswith("sk_clustermass."):
        return True
    return None


def _always_reread(app, env, added, changed, removed) -> list[str]:
    """The generated pages depend on other files: read them on every build."""
    return [name for name in (root_doc, "api") if name in env.found_docs]


def setup(app) -> dict[str, Any]:
    app.connect("source-read", _fill_generated_pages)
    app.connect("env-get-outdated", _always_reread)
    app.connect("autodoc-skip-member", _skip_member)
    return {"parallel_read_safe": True}
