"""Print what a master directory's master.cfg gives Buildbot, as canonical JSON.

Usage: ``python configdump.py MASTER_DIR [--basedir-token]``

Every master of a multi-master setup loads the same files and must build
the same configuration, in the same order (docs/scale-out.rst). This
script loads ``master.cfg`` with Buildbot's own ``FileLoader`` and prints
the builders (name, workers, properties, tags, description, and every
step with its arguments), workers, schedulers, change sources and
services (the reporters), in
Buildbot's order. Objects are described by class and attributes; memory
addresses never appear, so two runs compare byte for byte. With
``--basedir-token``, the master directory is replaced by ``<BASEDIR>`` in
the output (paths under it are the master's own, see the docs).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
from typing import Any

_ADDRESS = re.compile(r" at 0x[0-9a-f]+")
_SKIP = {"master", "parent", "running", "_registered_services", "_config_hash"}


def canonical(value: Any, depth: int = 0) -> Any:
    """A JSON-able, address-free description of ``value``."""
    if depth > 12:
        return "..."
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [canonical(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v, depth + 1) for v in value), key=repr)
    if isinstance(value, dict):
        return {str(k): canonical(v, depth + 1) for k, v in value.items()}
    if callable(value) and hasattr(value, "__qualname__"):
        return f"<{getattr(value, '__module__', '?')}.{value.__qualname__}>"
    recipe = getattr(value, "step_class", None)
    if recipe is not None and hasattr(value, "kwargs"):   # a step recipe
        return {"step": recipe.__name__, "args": canonical(list(value.args), depth + 1),
                "kwargs": canonical(dict(sorted(value.kwargs.items())), depth + 1)}
    attrs = getattr(value, "__dict__", None)
    if attrs is None:
        slots = getattr(type(value), "__slots__", ())
        attrs = {s: getattr(value, s) for s in slots if hasattr(value, s)}
    if attrs:
        return {"class": type(value).__qualname__,
                **{k: canonical(v, depth + 1) for k, v in sorted(attrs.items())
                   if k not in _SKIP and not k.startswith("__")}}
    return _ADDRESS.sub("", repr(value))


def describe(config: Any) -> dict:
    """The parts of a loaded ``MasterConfig`` every master must agree on."""
    return {
        "builders": [{"name": b.name, "workernames": b.workernames,
                      "properties": canonical(b.properties), "tags": b.tags,
                      "description": b.description,
                      "nextWorker": canonical(b.nextWorker),
                      "steps": canonical(b.factory.steps)} for b in config.builders],
        "workers": [canonical(w) for w in config.workers],
        "schedulers": [canonical(s) for s in config.schedulers.values()],
        "change_sources": [canonical(c) for c in config.change_sources],
        "services": [canonical(s) for s in config.services.values()],
    }


def main(argv: list[str]) -> int:
    from buildbot.config.master import FileLoader

    master_dir = os.path.abspath(argv[0])
    with contextlib.redirect_stdout(io.StringIO()):
        config = FileLoader(master_dir, "master.cfg").loadConfig()
    text = json.dumps(describe(config), indent=1, default=str)
    if "--basedir-token" in argv:
        text = text.replace(master_dir, "<BASEDIR>")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
