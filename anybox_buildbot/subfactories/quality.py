"""Quality step sets: static-analysis, sphinx-doc, packaging, autocommit."""

from __future__ import annotations

STEP_SETS: dict = {}
