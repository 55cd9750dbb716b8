"""Sphinx configuration: furo, MyST, autosummary, napoleon, sphinx-autodoc-typehints.

The figures and the backend table are committed; `python docs/_generate.py` regenerates them.
"""

import importlib.util
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
exclude_patterns = ["_build", "_generated"]  # included by api.md, not pages of their own
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


# The docs extra installs neither torch nor JAX (a plain `torch` requirement pulls torch's CUDA
# build), and the adapters import their framework: their API reference is generated only where
# the framework is installed (CI installs both), and is a note otherwise.
ADAPTERS = {
    "torch": (
        "torch",
        "smooth_l1_loss, huber_loss, pseudo_huber_loss, SmoothL1Loss, HuberLoss, PseudoHuberLoss",
    ),
    "jax": ("JAX", "smooth_l1_loss, huber_loss, pseudo_huber_loss"),
}


def adapter_pages() -> None:
    """Write ``_generated/api-torch.md`` and ``_generated/api-jax.md`` for api.md to include."""
    out = HERE / "_generated"
    out.mkdir(exist_ok=True)
    for module, (framework, members) in ADAPTERS.items():
        if importlib.util.find_spec(module) is None:
            text = (
                f"The reference of `huberish.{module}` is built where {framework} is installed "
                f"(install it, then build the docs again).\n"
            )
        else:
            text = (
                f"```{{eval-rst}}\n.. automodule:: huberish.{module}\n   :members: {members}\n```\n"
            )
        (out / f"api-{module}.md").write_text(text)


adapter_pages()  # before Sphinx reads api.md


def check_summary(app, what, name, obj, options, lines) -> None:
    """Warn (an error under ``-W``) where autosummary would cut a docstring's first paragraph:
    its summary is the first sentence, which an abbreviation such as "w.r.t." ends early."""
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from sphinx.ext.autosummary import extract_summary
    from sphinx.util import logging

    paragraph = " ".join("\n".join(lines).strip().split("\n\n")[0].split())
    summary = extract_summary(lines, get_default_settings(Parser))
    if paragraph and summary != paragraph:
        logging.getLogger(__name__).warning(
            "%s: the API summary stops at %r; make the first paragraph one sentence", name, summary
        )


def setup(app) -> None:
    app.connect("autodoc-process-docstring", check_summary)
