"""Step-set option schemas (stepoptions.py) applied by the manifest loader
(steploading.py): values parsed once, at load, at their line; names and
``NAME.OPTION`` checked there; step sets get typed values.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from unit_helpers import GIT, write

from anybox_buildbot.errors import ConfigError, Errors
from anybox_buildbot.factory import make_factory
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.registry import compile_registry, default_capabilities
from anybox_buildbot.rules import RuleError
from anybox_buildbot.steploading import Catalog
from anybox_buildbot.stepoptions import (
    OMIT,
    Arguments,
    Boolean,
    Choice,
    Command,
    Commands,
    Folder,
    Names,
    Number,
    Option,
    OptionKey,
    Paths,
    Problem,
    Raw,
    Schema,
    SinglePath,
    StepOptions,
    Text,
    schema_of,
)
from anybox_buildbot.subfactories import StepSet, builtin_catalog, builtin_step_sets


def parse(kind, text: str, default=None):
    return kind.parse(text, OptionKey("demo", Option("opt", kind, default)))


@pytest.mark.parametrize(("kind", "text", "value"), [
    (Raw(), "  a\nb ", "  a\nb "),
    (Text(), "  one line ", "one line"),
    (Arguments(), "-x -k 'a and b'\n  --lf", ("-x", "-k", "a and b", "--lf")),
    (Command(), "bin/py -m pytest", ("bin/py", "-m", "pytest")),
    (Commands(), "bin/a 'x y'\n\n  bin/b", (("bin/a", "x y"), ("bin/b",))),
    (Paths(), "src ./-odd", ("src", "./-odd")),
    (SinglePath(), "doc", "doc"),
    (Folder(), "out/./html", "out/html"),
    (Boolean(), "Yes", True),
    (Number(minimum=1, maximum=9), "09", 9),
    (Choice("ruff", "flake8"), "flake8", "flake8"),
    (Names(re.compile(r"[a-z]+"), "name", "e.g. a"), "a, b a\nc", ("a", "b", "c")),
])
def test_types_parse(kind, text: str, value) -> None:
    assert parse(kind, text) == value


@pytest.mark.parametrize(("kind", "text", "problem"), [
    (Text(), "  ", "empty value"),
    (Text(), "a\nb", "expected a single line"),
    (Arguments(), "'a", "cannot split into arguments: No closing quotation"),
    (Command(), "", "empty command"),
    (Commands(), "\n", "no command given"),
    (Commands(), "ok\nbad 'quote", "cannot split into arguments: No closing quotation"),
    (Paths(), "src --rootdir=/", "a path may not start with '-'"),
    (SinglePath(), "-x", "a path may not start with '-'"),
    (Folder(), "../x", "expected a folder inside the buildout's folder"),
    (Folder(), "/tmp", "expected a folder inside the buildout's folder"),
    (Folder(), "a/..", "expected a folder inside the buildout's folder"),
    (Boolean(), "maybe", "expected true or false"),
    (Number(), "\u00b2", "expected a whole number"),
    (Number(), "9" * 5000, "number too large"),
    (Number(minimum=1, maximum=9), "10", "expected a whole number"),
    (Choice("ruff", "flake8"), "pylint", "unknown opt"),
    (Names(re.compile(r"[a-z]+"), "name", "e.g. a"), "a B", "invalid name"),
    (Names(re.compile(r"[a-z]+"), "name", "e.g. a"), " , ", "no name"),
])
def test_types_refuse(kind, text: str, problem: str) -> None:
    with pytest.raises(RuleError) as info:
        parse(kind, text)
    assert info.value.problem == problem


def test_schema_of_reads_the_schema_or_the_older_names() -> None:
    def plain(options, context): ...

    def named(options, context): ...

    def declared(options, context): ...

    named.options = frozenset({"b", "a"})  # type: ignore[attr-defined]
    declared.schema = Schema(Option("level", Number(), default=3))  # type: ignore[attr-defined]
    assert schema_of(plain).open
    assert schema_of(named).names == ("a", "b")
    assert schema_of(named).defaults() == {}          # names only: absent stays absent
    assert schema_of(declared).defaults() == {"level": 3}
    declared.schema = {"level": int}  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="its 'schema' attribute is a dict"):
        schema_of(declared)
    named.options = "ab"  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="its 'options' attribute is a str"):
        schema_of(named)
    with pytest.raises(TypeError, match="Schema takes Option values"):
        Schema("level")  # type: ignore[arg-type]


def test_step_options_are_read_only_and_compare_as_mappings() -> None:
    values = StepOptions({"args": ("-x",)})
    assert values == {"args": ("-x",)} and dict(values) == {"args": ("-x",)}
    with pytest.raises(TypeError):
        values["args"] = ()  # type: ignore[index]
    assert values.checked and not StepOptions({}, checked=False).checked
    assert OMIT is not None and repr(OMIT) == "OMIT"


def test_catalog_looks_at_a_step_set_only_when_asked() -> None:
    asked = []

    def describe(name, step_set):
        asked.append(name)
        return builtin_catalog()[name]

    catalog = Catalog(builtin_step_sets(), describe)
    assert "pytest" in catalog and "nope" not in catalog and len(catalog) >= 14
    assert asked == []
    assert catalog["pytest"].schema.names == ("command", "args", "paths", "junit")
    assert catalog["pytest"] is catalog["pytest"] and asked == ["pytest"]


# -- the loader ---------------------------------------------------------------

def load(tmp_path: Path, body: str, step_sets=None) -> tuple[dict, list[str], Path]:
    write(tmp_path, "a.cfg", "[buildout]\n")
    path = write(tmp_path, "MANIFEST.cfg", f"[app]\n{GIT}\n{body}")
    errors = Errors()
    specs = load_manifests([path], errors, step_sets=builtin_catalog() if step_sets is None
                           else step_sets)
    return {s.name: s for s in specs}, errors.messages, path


def test_values_are_parsed_into_the_spec_with_defaults(tmp_path: Path) -> None:
    specs, messages, _ = load(tmp_path, "post-buildout-steps = pytest static-analysis\n"
                                        "pytest.args = -x -k 'a b'\npytest.junit = no\n"
                                        "static-analysis.max-warnings = 20\n")
    assert messages == []
    options = specs["app"].step_options
    assert options["pytest"] == {"command": ("bin/pytest",), "args": ("-x", "-k", "a b"),
                                 "paths": (), "junit": False}
    assert options["static-analysis"]["max-warnings"] == 20
    assert options["static-analysis"]["tool"] == "ruff"
    assert all(isinstance(v, StepOptions) and v.checked for v in options.values())


def test_the_default_step_set_gets_its_options_too(tmp_path: Path) -> None:
    specs, messages, _ = load(tmp_path, "")
    assert messages == [] and specs["app"].step_options == {"test": {}}


def test_every_step_set_mistake_in_one_pass_each_at_its_line(tmp_path: Path) -> None:
    """The issue's waves: an unknown step set, an unknown option and a bad
    value, plus an unrelated error of the section, all in one load."""
    _, messages, path = load(tmp_path, "tree-stable-timer = soon\n"
                                       "post-buildout-steps = pytest nosuch functional\n"
                                       "pytest.arg = -x\n"
                                       "pytest.junit = maybe\n"
                                       "sphinx-doc.source = doc\n")
    assert [m.split(": ")[0:2] for m in messages] == [
        [f"{path}:3", "buildout [app] tree-stable-timer"],
        [f"{path}:4", "buildout [app] post-buildout-steps"],    # nosuch
        [f"{path}:5", "buildout [app]"],                        # pytest.arg
        [f"{path}:7", "buildout [app]"],                        # sphinx-doc not used
        [f"{path}:6", "buildout [app] pytest.junit"],
        [f"{path}:4", "buildout [app] functional.commands"],    # required, missing
    ]
    assert "unknown step set 'nosuch'" in messages[1]
    assert "did you mean 'args'?" in messages[2]
    assert "which this buildout does not use" in messages[3]
    assert "expected true or false: 'maybe'" in messages[4]
    assert "missing option 'functional.commands'" in messages[5]


def test_schema_checks_see_the_buildout_and_report_at_the_line(tmp_path: Path) -> None:
    def needs_part(options, buildout):
        if buildout.buildout_part is None:
            yield Problem("needs buildout-part")
        if options["level"] > 2:
            yield Problem("too loud for this buildout", "level", hint="at most 2")

    def demo(options, context):
        return StepSet()

    demo.schema = Schema(Option("level", Number()), check=needs_part)  # type: ignore[attr-defined]
    catalog = Catalog({**builtin_step_sets(), "demo": demo})
    _, messages, path = load(tmp_path, "db-steps = demo\ndemo.level = 3\n", catalog)
    assert messages == [
        f"{path}:3: buildout [app] db-steps: needs buildout-part",
        f"{path}:4: buildout [app] demo.level: too loud for this buildout (at most 2)"]


def test_an_empty_catalog_knows_no_step_set(tmp_path: Path) -> None:
    _, messages, path = load(tmp_path, "post-buildout-steps = pytest\n", {})
    assert messages == [f"{path}:3: buildout [app] post-buildout-steps: unknown step set "
                        "'pytest': 'pytest' (known: )"]


def test_without_step_sets_values_stay_text_and_no_factory_takes_them(tmp_path: Path) -> None:
    write(tmp_path, "a.cfg", "[buildout]\n")
    path = write(tmp_path, "MANIFEST.cfg", f"[app]\n{GIT}\npost-buildout-steps = pytest\n"
                 "pytest.args = -x\n")
    errors = Errors()
    (spec,) = load_manifests([path], errors)
    assert not errors
    assert spec.step_options == {"pytest": {"args": "-x"}}
    assert not spec.step_options["pytest"].checked
    registry = compile_registry(default_capabilities(), errors)
    with pytest.raises(ConfigError) as info:
        make_factory(spec, None, registry, builtin_step_sets())
    assert info.value.errors == [
        f"{path}:3: buildout [app] post-buildout-steps: the options of step set 'pytest' "
        "were not checked (load the manifests with the step sets' schemas: "
        "load_manifests(..., step_sets=...))"]


def test_an_inherited_step_set_mistake_is_reported_once(tmp_path: Path) -> None:
    """Values and schema checks go through the section's collector: a line
    several sections get gives one message naming them (inherit.py)."""
    write(tmp_path, "a.cfg", "[buildout]\n")
    path = write(tmp_path, "MANIFEST.cfg", "[DEFAULT]\npytest.args = -k 'x\n"
                 "[base]\nbuildout = standalone a.cfg\n"
                 "post-buildout-steps = pytest update-odoo\npytest.junit = maybe\n"
                 "[a]\ninherit = base\n[b]\ninherit = base\n")
    errors = Errors()
    assert load_manifests([path], errors, step_sets=builtin_catalog()) == ()
    assert [m.split(": ")[:2] for m in errors.messages] == [
        [f"{path}:2", "[DEFAULT] pytest.args, used by [base], [a], [b]"],
        [f"{path}:6", "buildout [base] pytest.junit, inherited by [a], [b]"],
        [f"{path}:5", "buildout [base] post-buildout-steps, inherited by [a], [b]"]]
