"""Database step sets: simple_create, pg_remote_copy, final_dropdb."""

from __future__ import annotations

STEP_SETS: dict = {}
