"""The package's layout follows the flow (issue 11, docs/api.rst).

Read from the source with ``ast``, module-level imports only (an import
inside a function, or under ``TYPE_CHECKING``, runs later or never):

- no import cycle, and no two modules or packages importing each other
  (``factory`` and ``subfactories`` did);
- the parsing layer reaches nothing from Buildbot, Twisted or zope but
  ``buildbot.config.errors`` (``ConfigError`` subclasses Buildbot's
  ``ConfigErrors`` so that ``checkconfig`` prints it);
- build-step classes live in ``steps/``: step-set modules only compose;
- every module says what it owns.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from functools import cache
from pathlib import Path

import pytest
from buildbot.process import buildstep

PACKAGE = Path(__file__).resolve().parents[2] / "anybox_buildbot"
PARSING_LAYER = ("manifest", "manifestoptions", "buildoutspec", "workers", "inifile",
                 "constraint", "capability", "version", "ports", "template", "cron", "confine",
                 "vcsref", "notify", "rules", "stepoptions", "steploading")
ALLOWED_FROM_BUILDBOT = {"buildbot.config.errors"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))
           if "worker_scripts" not in p.parts}


@cache
def imports(name: str) -> frozenset[str]:
    """Modules ``name`` imports when it is imported."""
    path = MODULES[name]
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[:len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names
                         if f"{target}.{a.name}" in MODULES)
    return frozenset(found)


def internal(name: str) -> set[str]:
    return {m for m in imports(name) if m in MODULES and m != name}


def package_of(name: str) -> str:
    return ".".join(name.split(".")[:2])


def test_no_import_cycle() -> None:
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            pytest.fail("import cycle: " + " -> ".join((*path[path.index(name):], name)))
        if name in done:
            return
        for other in sorted(internal(name)):
            visit(other, (*path, name))
        done.add(name)

    for name in MODULES:
        visit(name, ())


def test_no_two_packages_import_each_other() -> None:
    edges = {(package_of(a), package_of(b)) for a in MODULES for b in internal(a)
             if package_of(a) != package_of(b)}
    both_ways = sorted((a, b) for a, b in edges if (b, a) in edges and a < b)
    assert both_ways == []


@pytest.mark.parametrize("name", PARSING_LAYER)
def test_the_parsing_layer_imports_nothing_from_buildbot(name: str) -> None:
    seen, todo = set(), [f"anybox_buildbot.{name}"]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(internal(current))
    outside = {m for s in seen for m in imports(s)
               if m.split(".")[0] in ("buildbot", "twisted", "zope")}
    assert outside <= ALLOWED_FROM_BUILDBOT, sorted(outside - ALLOWED_FROM_BUILDBOT)


def test_step_classes_live_in_steps() -> None:
    defined = []
    for name in MODULES:
        if not name.startswith("anybox_buildbot.subfactories"):
            continue
        module = importlib.import_module(name)
        defined += [f"{name}.{cls.__name__}" for _, cls in inspect.getmembers(module,
                                                                             inspect.isclass)
                    if issubclass(cls, buildstep.BuildStep) and cls.__module__ == name]
    assert defined == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_says_what_it_owns(name: str) -> None:
    assert ast.get_docstring(ast.parse(MODULES[name].read_text())), name
