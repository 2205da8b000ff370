"""Odoo step sets: install-modules-test, install-modules, update-odoo."""

from __future__ import annotations

STEP_SETS: dict = {}
