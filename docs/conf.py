"""Sphinx configuration of the anybox_buildbot documentation.

Built by ``make docs`` (warnings are errors) and by ``make test``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))   # autodoc imports the package from the checkout

project = "anybox_buildbot"
author = "anybox_buildbot contributors"
copyright = "anybox_buildbot contributors, GPL-3.0-or-later"

extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode"]

root_doc = "index"
exclude_patterns = ["_build"]
templates_path: list[str] = []
html_static_path: list[str] = []
html_theme = "alabaster"
html_title = "anybox_buildbot"
html_theme_options = {"description": "Buildbot 4 masters for zc.buildout projects",
                      "page_width": "1100px"}

highlight_language = "none"
pygments_style = "sphinx"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
autoclass_content = "both"
