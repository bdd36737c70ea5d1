"""Sphinx configuration of the ruralsim documentation site.

Build (offline, warnings are errors; the notebooks run at build time):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

``RURALSIM_DOCS_EXECUTE=off`` builds without running the notebooks (their cells shown
without outputs), as the fast test in tests/test_docs_site.py does; CI (.ci/run) builds the
site with them executed.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator import __version__  # noqa: E402

project = "ruralsim"
author = "ruralsim contributors"
copyright = "ruralsim contributors, BSD-3-Clause"
version = release = __version__

extensions = [
    "myst_nb",                       # Markdown pages and executed notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",                      # numpydoc docstrings -> API reference
    "sphinx.ext.mathjax",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "notebooks/**/results",
                    "CONVENTIONS.md"]
templates_path = ["_templates"]

# --- API reference (numpydoc) -----------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
# each module documents what it defines (not what it imports or re-exports in __all__)
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False,
                           "ignore-module-all": True}
autodoc_typehints = "none"           # numpydoc's Parameters sections give the types
autodoc_mock_imports = []
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()   # the style guide is docs/CONVENTIONS.md, not a gate here

# --- Markdown and notebooks (MyST-NB) ---------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = os.environ.get("RURALSIM_DOCS_EXECUTE", "force")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_in_temp = True          # results folders go to a temporary folder
nb_merge_streams = True

# --- Output ------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"ruralsim {version}"
html_static_path = []
html_theme_options = {"description": "Rural connectivity coverage simulator",
                      "fixed_sidebar": True, "page_width": "1180px", "sidebar_width": "240px"}
# offline: no intersphinx, nothing fetched at build time
intersphinx_mapping = {}
# numbered references listed in a module docstring and cited from its functions
suppress_warnings = ["myst.header", "ref.citation"]


def _skip_foreign(app, what, name, obj, skip, options):
    """Document in a module only what the package defines (not e.g. scipy's cKDTree
    imported at module level)."""
    mod = getattr(obj, "__module__", None)
    if what == "module" and isinstance(mod, str) and not mod.startswith("simulator"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign)
