"""Sphinx configuration: furo, MyST, autosummary, napoleon, sphinx-autodoc-typehints.

The figures and the backend table are committed; `python docs/_generate.py` regenerates them.
"""

import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import huberish  # noqa: E402

# sphinx-autodoc-typehints 3.6 calls an API that Sphinx 9 deprecates; not ours to fix.
warnings.filterwarnings("ignore", message=".*set_application.* is deprecated")

project = "huberish"
author = "The huberish developers"
copyright = "2026, The huberish developers"
release = version = huberish.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx_autodoc_typehints",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
# The class template lists the methods (without NamedTuple's `count` and `index`) and the
# attributes that have a description; the loss classes' `reduction`, `axis` and `keepdims`
# mirror their constructor parameters, which the Parameters section describes.
templates_path = ["_templates"]
myst_heading_anchors = 3
autosummary_generate = True
autodoc_default_options = {
    "members": True,
    "undoc-members": False,
    "exclude-members": "count, index",  # the tuple methods of LossAndGrad and LossGradHess
}
napoleon_numpy_docstring = True
napoleon_google_docstring = False
typehints_use_signature = False
always_document_param_types = False
doctest_test_doctest_blocks = "default"  # the `>>>` examples in docstrings run in the doctest build
html_theme = "furo"
html_title = f"huberish {version}"
