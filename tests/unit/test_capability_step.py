"""Instance choice and environment of the capability step (pure parts)."""

from __future__ import annotations

import pytest

from anybox_buildbot.capability import parse_capability
from anybox_buildbot.constraint import parse_requirement
from anybox_buildbot.errors import Errors
from anybox_buildbot.registry import compile_registry, default_capabilities
from anybox_buildbot.steps.capabilities import (
    Wanted,
    build_environment,
    choose_instance,
    python_command,
    shell_assignment,
)
from anybox_buildbot.template import parse_template

PG = [parse_capability(line) for line in (
    "postgresql 9.6 port=5433", "postgresql 13 port=5434 bin=/pg13/bin",
    "postgresql 13 port=5435", "postgresql 15devel port=5436 lib=/pg15/lib")]
REGISTRY = compile_registry(default_capabilities(), Errors())


def wanted(*reqs: str, pinned: bool = False) -> Wanted:
    return Wanted("postgresql", "pg_version", pinned,
                  tuple(parse_requirement(r) for r in reqs))


@pytest.mark.parametrize("want, pin, port", [
    (wanted(), None, "5436"),                           # highest, pre-release included
    (wanted("postgresql < 14"), None, "5434"),          # highest allowed; tie: first
    (wanted("postgresql < 15"), None, "5436"),          # 15devel < 15
    (wanted("postgresql >= 9", "postgresql < 10"), None, "5433"),
    (wanted(pinned=True), "13", "5434"),                # exact pin, first declared
    (wanted("postgresql > 13", pinned=True), "13", None),  # pin must meet requirements
    (wanted("postgresql > 16"), None, None),
])
def test_choose_instance(want: Wanted, pin: str | None, port: str | None) -> None:
    chosen = choose_instance(PG, want, pin)
    assert (chosen.options["port"] if chosen else None) == port


@pytest.mark.parametrize("line, command", [
    (None, "python3"),
    ("python 3.12", "python3.12"),
    ("python 3.12 bin=/opt/py/bin/", "/opt/py/bin/python3.12"),
    ("python bin=/usr/bin", "/usr/bin/python3"),
    ("python 3.11 executable=/x/py bin=/y", "/x/py"),
])
def test_python_command(line: str | None, command: str) -> None:
    assert python_command(parse_capability(line) if line else None) == command


def test_environment_from_registry_and_manifest() -> None:
    pg = REGISTRY["postgresql"]
    chosen = [(PG[1], pg), (parse_capability("python 3.11 bin=/py/bin"), REGISTRY["python"])]
    props = {"pg_version": "13", "cap_postgresql_port": "5434"}
    extra = [("DB_URL", parse_template("postgresql://:%(cap_postgresql_port)s/x")),
             ("EMPTY", parse_template("%(missing)s"))]
    env = build_environment(chosen, extra, props.get, {"PATH": "/usr/bin"})
    assert env == {
        "PGPORT": "5434",
        "PATH": ["/pg13/bin", "/py/bin", "${PATH}"],   # prepended, worker's value kept
        "DB_URL": "postgresql://:5434/x",
    }                                                  # no PGHOST, no EMPTY


def test_library_path_has_no_empty_entry_when_worker_has_none() -> None:
    pg = REGISTRY["postgresql"]
    env = build_environment([(PG[3], pg)], [], {}.get, {"PATH": "/usr/bin"})
    assert env["LD_LIBRARY_PATH"] == ["/pg15/lib"]
    env = build_environment([(PG[3], pg)], [], {}.get,
                            {"PATH": "/usr/bin", "LD_LIBRARY_PATH": "/opt/lib"})
    assert env["LD_LIBRARY_PATH"] == ["/pg15/lib", "${LD_LIBRARY_PATH}"]
    assert build_environment([(PG[0], pg)], [], {}.get, {})["PGPORT"] == "5433"


@pytest.mark.parametrize("var, value, shown", [
    ("PGPORT", "5432", "PGPORT=5432"),
    ("PATH", ["/usr/lib/postgresql/15/bin", "${PATH}"], "PATH=/usr/lib/postgresql/15/bin:$PATH"),
    ("LD_LIBRARY_PATH", ["/pg/lib"], "LD_LIBRARY_PATH=/pg/lib"),
    ("PATH", ["/opt/my tools/bin", "/a", "${PATH}"], "PATH='/opt/my tools/bin':/a:$PATH"),
    ("GREETING", "hello world", "GREETING='hello world'"),
    ("LITERAL", "${HOME}", "LITERAL='${HOME}'"),     # a plain value is not expanded
    ("EMPTYISH", "", "EMPTYISH=''"),
])
def test_environment_is_logged_as_a_shell_user_reads_it(var, value, shown) -> None:
    assert shell_assignment(var, value) == shown
