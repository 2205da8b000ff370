"""Capability lines of workers.cfg: NAME [VERSION] [OPTION=VALUE ...]."""

from __future__ import annotations

import pytest

from anybox_buildbot.capability import Capability, parse_capability
from anybox_buildbot.errors import Location, ParseError
from anybox_buildbot.version import parse_version

# line -> (name, version text or None, options)
PARSED = [
    ("postgresql 9.6 port=5433", "postgresql", "9.6", {"port": "5433"}),
    ("postgresql 13 bin=/usr/lib/postgresql/13/bin port=5434", "postgresql", "13",
     {"bin": "/usr/lib/postgresql/13/bin", "port": "5434"}),
    ("python 3.11 bin=/usr/bin", "python", "3.11", {"bin": "/usr/bin"}),
    ("selenium-server 2.3", "selenium-server", "2.3", {}),
    ("private-git-access", "private-git-access", None, {}),
    ("postgresql port=5432", "postgresql", None, {"port": "5432"}),
    ("ubuntu trusty", "ubuntu", "trusty", {}),
    ("postgresql 9.2-devel", "postgresql", "9.2-devel", {}),
    ("  postgresql   13\tport=5434  ", "postgresql", "13", {"port": "5434"}),
    ("postgresql 13 host=/var/run/postgresql lib=/opt/pg/lib", "postgresql", "13",
     {"host": "/var/run/postgresql", "lib": "/opt/pg/lib"}),
    ("x 1 a.b=1 c-d=2 _e=3", "x", "1", {"a.b": "1", "c-d": "2", "_e": "3"}),
    ("x 1 url=http://h/?a=b", "x", "1", {"url": "http://h/?a=b"}),   # value keeps '='
    ("py.test+x_y-z 1.0", "py.test+x_y-z", "1.0", {}),
    ("9base", "9base", None, {}),
    ("postgresql 14.5+deb12", "postgresql", "14.5+deb12", {}),
    ("python 3.13.0rc1 bin=/opt/py", "python", "3.13.0rc1", {"bin": "/opt/py"}),
    ("pg " + "9" * 64, "pg", "9" * 64, {}),
]


@pytest.mark.parametrize(("line", "name", "version", "options"), PARSED)
def test_parse(line, name, version, options):
    cap = parse_capability(line)
    assert cap.name == name
    assert cap.version_text == version
    assert cap.options == options
    assert list(cap.options) == list(options)           # declaration order kept
    if version is None:
        assert cap.version is None
    else:
        assert cap.version == parse_version(version)


@pytest.mark.parametrize("line", [row[0] for row in PARSED])
def test_format_round_trips(line):
    cap = parse_capability(line)
    again = parse_capability(cap.format())
    assert again == cap
    assert again.options == cap.options
    assert str(cap) == cap.format()


def test_format_is_canonical():
    assert parse_capability("  postgresql   13\tport=5434 ").format() == \
        "postgresql 13 port=5434"


def test_versions_compare_numerically():
    assert parse_capability("postgresql 9.2").version == parse_capability(
        "postgresql 9.2.0").version
    assert parse_capability("postgresql 9.2.0").version_text == "9.2.0"


def test_capability_is_a_hashable_value():
    cap = parse_capability("postgresql 13 port=5434")
    assert {cap, parse_capability("postgresql 13 port=5434")} == {cap}
    assert cap == Capability("postgresql", parse_version("13.0"), {"port": "5434"})
    assert cap != Capability("postgresql", parse_version("13"), {"port": "5435"})


# (line, problem fragment, column)
ERRORS = [
    ("", "empty capability line", None),
    ("   ", "empty capability line", None),
    ("-pg 13", "invalid capability name '-pg'", 1),
    ("pg/sql 13", "invalid capability name 'pg/sql'", 1),
    ("  _pg 13", "invalid capability name '_pg'", 3),
    ("postgresql 9.1 port", "expected OPTION=VALUE, got 'port'", 16),
    ("postgresql 9.1 port=5432 extra", "expected OPTION=VALUE, got 'extra'", 26),
    ("postgresql 9.1 9.2", "expected OPTION=VALUE, got '9.2'", 16),
    ("postgresql 13 port=", "option 'port' has an empty value", 15),
    ("postgresql port=", "option 'port' has an empty value", 12),
    ("postgresql 13 =5432", "invalid option name ''", 15),
    ("postgresql 13 1port=5432", "invalid option name '1port'", 15),
    ("postgresql 13 po/rt=5432", "invalid option name 'po/rt'", 15),
    ("postgresql 13 port=1 port=2", "option 'port' given twice", 22),
    ("postgresql 9.6/../../x", "invalid version '9.6/../../x'", 12),
    ("postgresql ../x port=1", "invalid version '../x'", 12),
    ("  python -3 bin=/x", "invalid version '-3'", 10),
    ("python 3\\11", "invalid version '3\\\\11'", 8),
    ("python 3.11\x1b", "invalid version '3.11\\x1b'", 8),
    ("pg " + "9" * 65, "invalid version", 4),
]


@pytest.mark.parametrize(("line", "problem", "column"), ERRORS)
def test_errors(line, problem, column):
    with pytest.raises(ParseError) as info:
        parse_capability(line)
    exc = info.value
    assert problem in exc.problem
    assert exc.column == column
    rendered = exc.render(Location("workers.cfg", 7))
    assert rendered.startswith("workers.cfg:7: ")
    if column is not None:
        assert f"at column {column}" in rendered


def test_option_without_value_explains_the_form():
    with pytest.raises(ParseError) as info:
        parse_capability("postgresql 9.1 port")
    assert info.value.text == "postgresql 9.1 port"
    assert "key=value without spaces" in info.value.hint


def test_empty_value_hint_names_the_option():
    with pytest.raises(ParseError) as info:
        parse_capability("postgresql 13 port=")
    assert info.value.hint == "write port=VALUE or drop the option"
