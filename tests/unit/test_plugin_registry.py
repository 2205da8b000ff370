"""Plugins' step sets: imported when a manifest names them, and a broken
one is an error only there.

Each test installs a small distribution by hand: a ``.dist-info`` folder
(METADATA, entry_points.txt) and its modules in a folder put on
``sys.path``, which is all ``importlib.metadata`` looks at. Nothing is
installed in the virtualenv; the folder and the imported modules are
removed after each test. tests/e2e/test_plugin_broken.py does the same
with a pip-installed distribution and a real master.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from unit_helpers import write

from anybox_buildbot import BuildoutsConfigurator, ConfigError
from anybox_buildbot.errors import Errors
from anybox_buildbot.factory import make_factory
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.registry import compile_registry, default_capabilities
from anybox_buildbot.subfactories import builtin_step_sets, load_registry

PREFIX = "anybox_unit_plugin"
ENTRY_POINTS = f"""\
[anybox_buildbot.subfactories]
gone = {PREFIX}_gone:steps
raises = {PREFIX}_raises:steps
exits = {PREFIX}_exits:steps
no-attr = {PREFIX}_ok:nothing_here
not-callable = {PREFIX}_ok:GREETING
works = {PREFIX}_ok:steps
pytest = {PREFIX}_marker:steps
typed = {PREFIX}_bad:typed
bug = {PREFIX}_bad:bug
gives-list = {PREFIX}_bad:gives_list
gives-none = {PREFIX}_bad:gives_none
gives-text = {PREFIX}_bad:gives_text
bad-schema = {PREFIX}_bad:bad_schema
"""
MODULES = {
    # each import leaves a marker next to the module: imported or not is visible
    "_raises": "open(__file__ + '.imported', 'w').close()\nraise ValueError('bad plugin')\n",
    "_exits": "import sys\nsys.exit('plugin gave up')\n",
    "_ok": textwrap.dedent("""\
        from anybox_buildbot.subfactories import StepSet
        GREETING = 'hello'
        def steps(options, context):
            return StepSet()
        steps.options = frozenset({'level'})
        """),
    "_marker": "open(__file__ + '.imported', 'w').close()\ndef steps(options, context): 0\n",
    # step sets that load but misbehave when called
    "_bad": textwrap.dedent("""\
        from buildbot.plugins import steps as bb
        from anybox_buildbot.stepoptions import Number, Option, Schema
        from anybox_buildbot.subfactories import StepSet
        SEEN = []
        def typed(options, context):
            SEEN.append(dict(options))
            return StepSet(steps=[bb.ShellCommand(name='typed', command=['true'])])
        typed.schema = Schema(Option('level', Number(maximum=5), default=1))
        def bug(options, context):
            return options['no such option']
        def gives_list(options, context):
            return [bb.ShellCommand(name='x', command=['true'])]
        def gives_none(options, context):
            pass
        def gives_text(options, context):
            return StepSet(cleanup=['rm -rf x'])
        def bad_schema(options, context):
            return StepSet()
        bad_schema.schema = ('level',)
        """),
}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``unit-plugin 1.5`` installed in a folder on sys.path."""
    folder = tmp_path / "site"
    info = folder / "unit_plugin-1.5.dist-info"
    write(info, "METADATA", "Metadata-Version: 2.1\nName: unit-plugin\nVersion: 1.5\n")
    write(info, "entry_points.txt", ENTRY_POINTS)
    for suffix, source in MODULES.items():
        write(folder, f"{PREFIX}{suffix}.py", source)
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in [m for m in sys.modules if m.startswith(PREFIX)]:
        del sys.modules[name]


def imported(site: Path, suffix: str) -> bool:
    return (site / f"{PREFIX}{suffix}.py.imported").exists()


def configure(tmp_path: Path, manifest: str) -> BuildoutsConfigurator:
    write(tmp_path, "workers.cfg", "[w1]\npassword = pw\n")
    write(tmp_path, "buildouts/app.cfg", "[buildout]\nparts =\n")
    write(tmp_path, "buildouts/MANIFEST.cfg", manifest)
    conf = BuildoutsConfigurator(str(tmp_path), {})
    conf.populate()
    return conf


def errors_of(tmp_path: Path, manifest: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        configure(tmp_path, manifest)
    return info.value.errors


def test_no_plugin_is_imported_until_a_manifest_names_it(site: Path, tmp_path: Path) -> None:
    registry = load_registry()
    assert {"gone", "raises", "works", "test"} <= set(registry)
    assert "raises" in registry
    assert not imported(site, "_raises")
    conf = configure(tmp_path, "[a]\nbuildout = standalone app.cfg\n")
    assert sorted(conf.build_factories) == ["a"]
    assert not imported(site, "_raises")
    assert registry["works"].options == frozenset({"level"})
    from anybox_buildbot.subfactories import BrokenStepSet
    assert isinstance(registry["raises"], BrokenStepSet)
    assert imported(site, "_raises")


def test_a_built_in_name_keeps_the_built_in_and_never_imports_the_plugin(
        site: Path, tmp_path: Path) -> None:
    registry = load_registry()
    assert registry["pytest"] is builtin_step_sets()["pytest"]
    assert registry.shadowed == [
        "step set 'pytest' of unit-plugin 1.5 (entry point 'pytest = "
        f"{PREFIX}_marker:steps') is ignored: a built-in step set has that name"]
    conf = configure(tmp_path, "[a]\nbuildout = standalone app.cfg\n"
                     "post-buildout-steps = pytest\npytest.args = -x\n")
    steps = [f.kwargs.get("name") or f.step_class.name for f in conf.build_factories["a"].steps]
    assert "pytest" in steps and "pytest-summary" in steps     # the built-in step set
    assert not imported(site, "_marker")


@pytest.mark.parametrize(("name", "problem"), [
    ("gone", f"importing module '{PREFIX}_gone' failed: ModuleNotFoundError: No module "
             f"named '{PREFIX}_gone'"),
    ("raises", f"importing module '{PREFIX}_raises' failed: ValueError: bad plugin"),
    ("exits", f"importing module '{PREFIX}_exits' failed: SystemExit: plugin gave up"),
    ("no-attr", f"module '{PREFIX}_ok' has no attribute 'nothing_here'"),
    ("not-callable", f"'{PREFIX}_ok:GREETING' is a str, not a callable step set"),
])
def test_a_broken_entry_point_is_an_error_at_the_line_naming_it(
        site: Path, tmp_path: Path, name: str, problem: str) -> None:
    manifest = ("[ok]\nbuildout = standalone app.cfg\npost-buildout-steps = works\n"
                f"[a]\nbuildout = standalone app.cfg\npost-dl-steps = test\n"
                f"post-buildout-steps = test\n    {name}\n")
    entry = f"{name} = {ENTRY_POINTS.split(f'{name} = ')[1].splitlines()[0]}"
    assert errors_of(tmp_path, manifest) == [
        f"buildouts/MANIFEST.cfg:8: buildout [a] post-buildout-steps: step set {name!r} "
        f"cannot be loaded: {problem} (entry point {entry!r} of unit-plugin 1.5: repair "
        f"or remove that distribution, or take {name!r} out of post-buildout-steps)"]


def test_each_buildout_naming_it_gets_the_error(site: Path, tmp_path: Path) -> None:
    manifest = "".join(f"[b{i}]\nbuildout = standalone app.cfg\ndb-steps = gone\n"
                       for i in range(3))
    messages = errors_of(tmp_path, manifest)
    assert [m.split(": step set")[0] for m in messages] == [
        f"buildouts/MANIFEST.cfg:{3 * i + 3}: buildout [b{i}] db-steps" for i in range(3)]


def test_an_unknown_step_set_is_reported_at_its_line(tmp_path: Path) -> None:
    messages = errors_of(tmp_path, "[a]\nbuildout = standalone app.cfg\n"
                         "post-buildout-steps = test\n    tset\n")
    assert messages[0].startswith("buildouts/MANIFEST.cfg:4: buildout [a] "
                                  "post-buildout-steps: unknown step set 'tset'")


def test_make_factory_reports_a_broken_step_set_too(site: Path, tmp_path: Path) -> None:
    """The public one-factory API has no configurator check before it."""
    path = write(tmp_path, "MANIFEST.cfg", "[a]\nbuildout = standalone app.cfg\n"
                 "post-buildout-steps = raises\n")
    write(tmp_path, "app.cfg", "[buildout]\n")
    errors = Errors()
    (spec,) = load_manifests([path], errors)
    registry = compile_registry(default_capabilities(), errors)
    with pytest.raises(ConfigError) as info:
        make_factory(spec, None, registry, load_registry())
    assert info.value.errors == [
        f"{path}:3: buildout [a] post-buildout-steps: step set 'raises' cannot be loaded: "
        f"importing module '{PREFIX}_raises' failed: ValueError: bad plugin (entry point "
        f"'raises = {PREFIX}_raises:steps' of unit-plugin 1.5: repair or remove that "
        "distribution, or take 'raises' out of post-buildout-steps)"]


# -- a plugin step set that loads but misbehaves: a ConfigError naming it, its
# -- distribution and the manifest line, never a traceback (issue 11)

def test_a_plugin_schema_types_its_options(site: Path, tmp_path: Path) -> None:
    configure(tmp_path, "[a]\nbuildout = standalone app.cfg\npost-buildout-steps = typed\n"
              "typed.level = 04\n")
    assert sys.modules[f"{PREFIX}_bad"].SEEN == [{"level": 4}]
    assert errors_of(tmp_path, "[a]\nbuildout = standalone app.cfg\n"
                     "post-buildout-steps = typed\ntyped.level = 6\n") == [
        "buildouts/MANIFEST.cfg:4: buildout [a] typed.level: expected a whole number: '6'"]


@pytest.mark.parametrize(("name", "problem"), [
    ("bug", "failed to build its steps: KeyError: 'no such option'"),
    ("gives-list", "returned a list, not a StepSet"),
    ("gives-none", "returned a NoneType, not a StepSet"),
    ("gives-text", "returned a StepSet whose cleanup holds a str, not a Buildbot step"),
])
def test_a_misbehaving_step_set_is_an_error_naming_it_where_it_comes_from_and_its_line(
        site: Path, tmp_path: Path, name: str, problem: str) -> None:
    messages = errors_of(tmp_path, "[ok]\nbuildout = standalone app.cfg\n"
                         f"[a]\nbuildout = standalone app.cfg\ndb-steps = {name}\n")
    entry = f"{name} = {ENTRY_POINTS.split(f'{name} = ')[1].splitlines()[0]}"
    (message,) = messages
    assert message.startswith(
        f"buildouts/MANIFEST.cfg:5: buildout [a] db-steps: step set {name!r} (entry point "
        f"{entry!r} of unit-plugin 1.5) {problem} (")
    assert message.endswith(f"report it to its authors, or take {name!r} out of db-steps)")


def test_a_plugin_schema_of_the_wrong_type_is_an_error_at_load(site: Path,
                                                               tmp_path: Path) -> None:
    assert errors_of(tmp_path, "[a]\nbuildout = standalone app.cfg\n"
                     "post-buildout-steps = bad-schema\n") == [
        "buildouts/MANIFEST.cfg:3: buildout [a] post-buildout-steps: step set 'bad-schema' "
        "cannot be loaded: its 'schema' attribute is a tuple, not an "
        "anybox_buildbot.stepoptions.Schema (entry point 'bad-schema = "
        f"{PREFIX}_bad:bad_schema' of unit-plugin 1.5: repair or remove that distribution, "
        "or take 'bad-schema' out of post-buildout-steps)"]
