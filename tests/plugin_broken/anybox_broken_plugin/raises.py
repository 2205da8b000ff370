"""A module that fails at import, as a plugin with a bug or a missing
setting does."""

raise RuntimeError("the broken plugin needs ANYBOX_BROKEN_LICENCE")
