"""Requirement lines: syntax, AND/OR, prefixes, matching and errors."""

from __future__ import annotations

import pytest

from anybox_buildbot.constraint import Clause, Requirement, parse_requirement, tokenize
from anybox_buildbot.errors import Location, ParseError
from anybox_buildbot.version import parse_version

# line -> (name, alternatives as lists of "OP VERSION" strings)
PARSED = [
    ("postgresql", "postgresql", []),
    ("  postgresql  ", "postgresql", []),
    ("private-git-access", "private-git-access", []),
    ("postgresql >= 9.6", "postgresql", [[">= 9.6"]]),
    ("postgresql >=9.6", "postgresql", [[">= 9.6"]]),
    ("postgresql >= 9.6 < 14", "postgresql", [[">= 9.6", "< 14"]]),
    ("postgresql >= 9.6, < 14", "postgresql", [[">= 9.6", "< 14"]]),
    ("postgresql >=9.6,<14", "postgresql", [[">= 9.6", "< 14"]]),
    ("python >= 3.9, != 3.10", "python", [[">= 3.9", "!= 3.10"]]),
    ("postgresql > 9.0 OR == 8.4", "postgresql", [["> 9.0"], ["== 8.4"]]),
    ("postgresql > 9.0 or == 8.4", "postgresql", [["> 9.0"], ["== 8.4"]]),
    ("postgresql > 9.0 Or == 8.4", "postgresql", [["> 9.0"], ["== 8.4"]]),
    ("postgresql >= 9.6 < 10 OR >= 12 < 14 OR == 8.4", "postgresql",
     [[">= 9.6", "< 10"], [">= 12", "< 14"], ["== 8.4"]]),
    ("postgresql ==9.*", "postgresql", [["== 9.*"]]),
    ("postgresql == 9.*", "postgresql", [["== 9.*"]]),
    ("postgresql != 9.*", "postgresql", [["!= 9.*"]]),
    ("postgresql == 9.2.*", "postgresql", [["== 9.2.*"]]),
    ("ubuntu == trusty", "ubuntu", [["== trusty"]]),
    ("ubuntu != trusty", "ubuntu", [["!= trusty"]]),
    ("postgresql == 9.2-devel", "postgresql", [["== 9.2-devel"]]),
    ("postgresql <= 9.2rc1", "postgresql", [["<= 9.2rc1"]]),
    # OR is a separate word: these names are not split
    ("ORACLE-client", "ORACLE-client", []),
    ("ORACLE-client >= 12", "ORACLE-client", [[">= 12"]]),
    ("xORx", "xORx", []),
    ("xORx == 1 OR == 2", "xORx", [["== 1"], ["== 2"]]),
    ("selenium-server", "selenium-server", []),
    ("py.test+x_y-z", "py.test+x_y-z", []),
]


@pytest.mark.parametrize(("line", "name", "alternatives"), PARSED)
def test_parse(line, name, alternatives):
    req = parse_requirement(line)
    assert req.name == name
    assert [[str(c) for c in conj] for conj in req.alternatives] == alternatives
    assert req.is_bare is (not alternatives)
    assert req.text == line.strip()


@pytest.mark.parametrize(("line", "canonical"), [
    ("postgresql", "postgresql"),
    ("postgresql >=9.6,<14", "postgresql >= 9.6 < 14"),
    ("postgresql > 9.0 or == 8.4", "postgresql > 9.0 OR == 8.4"),
    ("postgresql ==9.*", "postgresql == 9.*"),
])
def test_str_is_canonical_and_reparses_equal(line, canonical):
    req = parse_requirement(line)
    assert str(req) == canonical
    again = parse_requirement(canonical)
    assert again.name == req.name and again.alternatives == req.alternatives


def test_tokenize_keeps_columns_and_drops_commas():
    assert [(t.text, t.column) for t in tokenize("python >=3.9, != 3.10")] == [
        ("python", 1), (">=3.9", 8), ("!=", 15), ("3.10", 18)]


def test_prefix_flag():
    (clause,), = parse_requirement("postgresql == 9.*").alternatives
    assert clause == Clause("==", parse_version("9"), prefix=True)


# (requirement line, worker version or None for "no version", matches?)
MATCHES = [
    # bare name: any version, and no version at all
    ("postgresql", "9.6", True),
    ("postgresql", "trusty", True),
    ("postgresql", None, True),
    # any clause needs a version
    ("postgresql >= 9.6", None, False),
    ("postgresql != 9.6", None, False),
    ("postgresql == 9.6", None, False),
    # ordering
    ("postgresql >= 9.6", "9.6", True),
    ("postgresql >= 9.6", "9.6.0", True),
    ("postgresql >= 9.6", "9.10", True),
    ("postgresql >= 9.6", "9.5", False),
    ("postgresql >= 9.6", "9.6rc1", False),
    ("postgresql > 9.6", "9.6", False),
    ("postgresql > 9.6", "9.6.1", True),
    ("postgresql < 14", "13.9", True),
    ("postgresql < 14", "14", False),
    ("postgresql < 14", "14-devel", True),     # a pre-release of 14 is below 14
    ("postgresql <= 14", "14.0", True),
    ("postgresql <= 14", "14.1", False),
    ("postgresql >= 9.6 < 14", "9.6", True),
    ("postgresql >= 9.6 < 14", "13", True),
    ("postgresql >= 9.6 < 14", "14", False),
    ("postgresql >= 9.6 < 14", "9.5", False),
    ("postgresql >= 9.6, < 14", "10", True),
    # equality is numeric when both sides are orderable
    ("postgresql == 9.2", "9.2.0", True),
    ("postgresql == 9.2.0", "9.2", True),
    ("postgresql == 9.2", "9.2.1", False),
    ("postgresql == 9.2", "9.20", False),
    ("postgresql != 9.2", "9.2.0", False),
    ("postgresql != 9.2", "9.3", True),
    ("postgresql == 9.2-devel", "9.2devel", True),
    # OR binds looser than AND
    ("postgresql > 9.0 OR == 8.4", "8.4", True),
    ("postgresql > 9.0 OR == 8.4", "8.4.0", True),
    ("postgresql > 9.0 OR == 8.4", "8.5", False),
    ("postgresql > 9.0 OR == 8.4", "9.0", False),
    ("postgresql > 9.0 OR == 8.4", "9.1", True),
    ("postgresql >= 9.6 < 10 OR >= 12 < 14", "9.6", True),
    ("postgresql >= 9.6 < 10 OR >= 12 < 14", "11", False),
    ("postgresql >= 9.6 < 10 OR >= 12 < 14", "13", True),
    ("postgresql >= 9.6 < 10 OR >= 12 < 14", "14", False),
    ("python >= 3.9, != 3.10", "3.9", True),
    ("python >= 3.9, != 3.10", "3.10", False),
    ("python >= 3.9, != 3.10", "3.10.0", False),
    ("python >= 3.9, != 3.10", "3.11", True),
    ("python >= 3.9, != 3.10", "3.8", False),
    # prefix match
    ("postgresql ==9.*", "9", True),
    ("postgresql ==9.*", "9.6", True),
    ("postgresql ==9.*", "9.6.24", True),
    ("postgresql ==9.*", "9.2-devel", True),
    ("postgresql ==9.*", "10", False),
    ("postgresql ==9.*", "90", False),
    ("postgresql ==9.2.*", "9.2", True),
    ("postgresql ==9.2.*", "9.2.5", True),
    ("postgresql ==9.2.*", "9.20", False),
    ("postgresql ==9.2.*", "9", False),       # 9 is 9.0, not 9.2.x
    ("postgresql ==9.0.*", "9", True),
    ("postgresql ==9.0.*", "9.0.3", True),
    ("postgresql !=9.*", "9.6", False),
    ("postgresql !=9.*", "10", True),
    ("postgresql ==9.* != 9.3", "9.3", False),
    ("postgresql ==9.* != 9.3", "9.4", True),
    # unorderable worker versions: equality only, never ordering
    ("ubuntu == trusty", "trusty", True),
    ("ubuntu == trusty", "xenial", False),
    ("ubuntu != trusty", "xenial", True),
    ("ubuntu != trusty", "trusty", False),
    ("postgresql >= 9.6", "trusty", False),
    ("postgresql < 100", "trusty", False),
    ("postgresql <= 9.6", "9.6-1", False),
    ("postgresql > 0", "latest", False),
    ("postgresql == 9.6", "trusty", False),
    ("postgresql != 9.6", "trusty", True),
    ("postgresql >= 9.6 OR == trusty", "trusty", True),
    ("postgresql >= 9.6 OR == trusty", "bionic", False),
]


@pytest.mark.parametrize(("line", "version", "expected"), MATCHES)
def test_matches(line, version, expected):
    req = parse_requirement(line)
    assert req.matches(parse_version(version) if version is not None else None) is expected


def test_requirement_is_hashable_value():
    a = parse_requirement("postgresql >= 9.6")
    b = Requirement(a.name, a.alternatives, a.text)
    assert a == b and hash(a) == hash(b)


# (line, problem fragment, column or None, text quoted, hint fragment)
ERRORS = [
    ("postgresql >=", "expected a version after '>='", 12, "postgresql >=", "postgresql >= 9.6"),
    ("postgresql >= OR == 9", "expected a version after '>='", 12, None, None),
    ("postgresql >= < 9", "expected a version after '>='", 12, None, None),
    ("postgresql == 9.1 OR", "expected a clause after 'OR'", 21, "postgresql == 9.1 OR",
     "remove the trailing OR"),
    ("postgresql == 9.1 or", "expected a clause after 'OR'", 21, None, None),
    ("postgresql OR == 9", "expected a clause before 'OR'", 12, None, None),
    ("postgresql == 9 OR OR == 10", "expected a clause before 'OR'", 20, None, None),
    ("postgresql => 9.6", "unknown operator '=>'", 12, "postgresql => 9.6",
     "valid operators: == != <= >= < >"),
    ("postgresql =< 9.6", "unknown operator '=<'", 12, None, "valid operators"),
    ("postgresql >> 9.6", "unknown operator '>>'", 12, None, "valid operators"),
    ("postgresql ~= 9.6", "unknown operator '~='", 12, None, "valid operators"),
    ("postgresql = 9.6", "unknown operator '='", 12, None, "valid operators"),
    ("postgresql === 9.6", "unknown operator '==='", 12, None, None),
    ("postgresql ~9.6", "unknown operator '~'", 12, None, None),
    ("postgresql >= 9.6 =>10", "unknown operator '=>'", 19, None, None),
    ("postgresql 9.6", "expected an operator before '9.6'", 12, None,
     "did you mean '== 9.6'?"),
    ("postgresql python", "expected an operator before 'python'", 12, None,
     "one capability name per line"),
    ("postgresql >= 9.6 python", "expected an operator before 'python'", 19, None, None),
    ("postgresql >= trusty", "version 'trusty' cannot be ordered, so '>=' cannot apply", 15,
     "postgresql >= trusty", "use '==' or '!='"),
    ("ubuntu <trusty", "version 'trusty' cannot be ordered", 9, None, None),
    ("postgresql >= 9.*", "wildcard versions only go with '==' or '!=', not '>='", 15, None,
     None),
    ("postgresql == *", "invalid version '*'", 15, None, None),
    ("postgresql == 9.*.1", "invalid version '9.*.1'", 15, None, None),
    ("postgresql ==9.6<14", "invalid version '9.6<14'", 14, None, None),
    ("postgresql >=9.6<14", "invalid version '9.6<14'", 14, None, None),
    ("postgresql == 9.6!", "invalid version '9.6!'", 15, None, None),
    ("-postgresql", "invalid capability name '-postgresql'", 1, None, None),
    (">= 9.6", "invalid capability name '>='", 1, None, None),
    ("", "empty requirement", 1, None, None),
    ("postgresql > 13 < 9", "no version can satisfy 'postgresql > 13 < 9'", None,
     "postgresql > 13 < 9", "lower one must be below the upper one"),
    ("postgresql >= 9.6 < 9.6", "no version can satisfy", None, None, None),
    ("postgresql > 9.6 <= 9.6", "no version can satisfy", None, None, None),
    ("postgresql == 9.6 != 9.6.0", "no version can satisfy", None, None, None),
    ("postgresql == 9.6 == 10", "no version can satisfy", None, None, None),
    ("postgresql == 8 >= 9.6", "no version can satisfy", None, None, None),
    ("postgresql >= 14 OR > 13 < 9", "no version can satisfy 'postgresql > 13 < 9'", None,
     None, None),
]


@pytest.mark.parametrize(("line", "problem", "column", "text", "hint"), ERRORS)
def test_errors(line, problem, column, text, hint):
    with pytest.raises(ParseError) as info:
        parse_requirement(line)
    exc = info.value
    assert problem in exc.problem
    assert exc.column == column
    if text is not None:
        assert exc.text == text
    if hint is not None:
        assert hint in exc.hint
    rendered = exc.render(Location("MANIFEST.cfg", 42), "build-for")
    assert rendered.startswith("MANIFEST.cfg:42: build-for: ")
    if column is not None:
        assert f" at column {column}: " in rendered
    else:
        assert "at column" not in rendered


def test_spec_error_example_renders_exactly():
    with pytest.raises(ParseError) as info:
        parse_requirement("postgresql >=")
    assert info.value.render(Location("MANIFEST.cfg", 42), "build-for") == (
        "MANIFEST.cfg:42: build-for: expected a version after '>=' at column 12: "
        "'postgresql >=' (e.g. 'postgresql >= 9.6')\n"
        "    postgresql >=\n"
        "               ^")


@pytest.mark.parametrize("line", [
    "postgresql >= 9.6 <= 9.6",
    "postgresql == 9.6 >= 9.6",
    "postgresql == 9.6 != 10",
    "postgresql > 9 < 9.0.1",
    "postgresql ==9.* < 9.5",
])
def test_tight_but_satisfiable_bounds_are_accepted(line):
    assert parse_requirement(line).alternatives


def test_bad_lines_are_not_cached_as_good():
    for _ in range(2):
        with pytest.raises(ParseError):
            parse_requirement("postgresql >> 9")
