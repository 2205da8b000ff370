"""The INI reader: sections, options, continuation lines and locations."""

from __future__ import annotations

import textwrap

import pytest

from anybox_buildbot.errors import Errors, Location
from anybox_buildbot.inifile import parse_ini, read_ini


def parse(text: str, path: str = "f.cfg"):
    errors = Errors()
    ini = parse_ini(textwrap.dedent(text).lstrip("\n"), path, errors)
    return ini, errors.messages


def test_sections_options_and_locations():
    ini, messages = parse("""
        # leading comment
        ; other comment style
        [one]
        a = 1
        B = two words

        [two]
        c : colon
        """)
    assert messages == []
    assert [s.name for s in ini.sections] == ["one", "two"]
    one, two = ini.sections
    assert one.location == Location("f.cfg", 3)
    assert one.options["a"].value == "1"
    assert one.options["a"].location == Location("f.cfg", 4)
    assert one.options["B"].value == "two words"       # case kept
    assert "b" not in one.options
    assert two.options["c"].value == "colon"
    assert two.options["c"].location == Location("f.cfg", 8)


def test_continuation_lines_keep_their_own_lines():
    ini, messages = parse("""
        [w]
        capability = postgresql 9.6 port=5433
            postgresql 13 port=5434   # the new cluster
        \tpython 3.11

            ; commented continuation
            selenium-server 2.3
        after = x
        """)
    assert messages == []
    opt = ini.sections[0].options["capability"]
    assert opt.lines == (
        ("postgresql 9.6 port=5433", Location("f.cfg", 2)),
        ("postgresql 13 port=5434", Location("f.cfg", 3)),
        ("python 3.11", Location("f.cfg", 4)),
        ("selenium-server 2.3", Location("f.cfg", 7)),
    )
    assert opt.value.splitlines()[1] == "postgresql 13 port=5434"
    assert ini.sections[0].options["after"].value == "x"


def test_value_starting_on_next_line():
    ini, messages = parse("""
        [b]
        watch =
            git https://example.com/a.git main
        """)
    assert messages == []
    opt = ini.sections[0].options["watch"]
    assert opt.location == Location("f.cfg", 2)
    assert opt.first_location == Location("f.cfg", 3)
    assert opt.value == "git https://example.com/a.git main"


def test_empty_value_has_no_lines():
    ini, _ = parse("[b]\nwatch =\n")
    opt = ini.sections[0].options["watch"]
    assert opt.lines == ()
    assert opt.value == ""
    assert opt.first_location == Location("f.cfg", 2)


@pytest.mark.parametrize(("line", "value"), [
    ("k = v # comment", "v"),
    ("k = v ; comment", "v"),
    ("k = v#not-a-comment", "v#not-a-comment"),
    ("k = v;not-a-comment", "v;not-a-comment"),
    ("k = # only a comment", ""),
    ("k=v", "v"),
    ("k:v", "v"),
    ("k = a = b", "a = b"),
    ("k = %(secret:pw)s", "%(secret:pw)s"),
    ("env.PGDATA = /srv/pg", "/srv/pg"),
])
def test_value_forms(line, value):
    ini, messages = parse(f"[s]\n{line}\n")
    assert messages == []
    (opt,) = ini.sections[0].options.values()
    assert opt.value == value


def test_option_name_is_kept_as_written():
    ini, _ = parse("[s]\nenv.PGDATA = x\nMax_Builds = 1\n")
    assert list(ini.sections[0].options) == ["env.PGDATA", "Max_Builds"]


def test_default_section_is_merged_under_each_section():
    ini, messages = parse("""
        [DEFAULT]
        a = default-a
        b = default-b
        [s]
        a = own
        [t]
        """)
    assert messages == []
    assert [s.name for s in ini.sections] == ["s", "t"]
    s, t = ini.sections
    assert {k: o.value for k, o in ini.merged_options(s).items()} == {
        "a": "own", "b": "default-b"}
    assert {k: o.value for k, o in ini.merged_options(t).items()} == {
        "a": "default-a", "b": "default-b"}
    # defaults keep the line where they are written
    assert ini.merged_options(t)["b"].location == Location("f.cfg", 3)


def test_crlf_line_endings():
    ini, messages = parse("[s]\r\na = 1\r\n  b\r\n")
    assert messages == []
    assert ini.sections[0].options["a"].lines == (
        ("1", Location("f.cfg", 2)), ("b", Location("f.cfg", 3)))


# (text, problem fragment, line, quoted text)
ERRORS = [
    ("a = 1\n[s]\n", "option outside any section", 1, "'a'"),
    ("  x\n[s]\n", "indented line outside any option", 1, "'x'"),
    ("[s]\n  x\n", "indented line outside any option", 2, "'x'"),
    ("[s]\nnot an option\n", "expected '[section]', 'option = value' or an indented "
     "continuation line", 2, "'not an option'"),
    ("[s\n", "expected '[section]'", 1, "'[s'"),
    ("[s] trailing\n", "expected '[section]'", 1, "'[s] trailing'"),
    ("[]\n", "empty section name", 1, "'[]'"),
    ("[s]\na = 1\na = 2\n", "option 'a' given twice (first at line 2)", 3, "'a'"),
    ("[s]\na = 1\n[t]\n[s]\n", "section [s] already defined at line 1", 4, "'[s]'"),
    ("[s]\n= value\n", "expected '[section]'", 2, "'= value'"),
]


@pytest.mark.parametrize(("text", "problem", "line", "quoted"), ERRORS)
def test_errors(text, problem, line, quoted):
    _, messages = parse(text)
    assert len(messages) == 1, messages
    (message,) = messages
    assert message.startswith(f"f.cfg:{line}: ")
    assert problem in message
    assert f": {quoted}" in message


def test_duplicate_option_never_quotes_the_value():
    """The value may be a password: the message names the key only."""
    _, messages = parse("[w]\npassword = first-s3cret\npassword = second-s3cret\n")
    assert len(messages) == 1
    assert "s3cret" not in messages[0]
    assert "'password' given twice" in messages[0]


def test_option_outside_section_never_quotes_the_value():
    _, messages = parse("password = top-s3cret\n[w]\n")
    assert len(messages) == 1
    assert "s3cret" not in messages[0]


def test_duplicate_option_continuation_lines_are_not_reported_again():
    _, messages = parse("[s]\na = 1\na = 2\n  3\n  4\nb = 5\n")
    assert len(messages) == 1


def test_errors_do_not_stop_parsing():
    ini, messages = parse("[s]\nbad line\na = 1\n[]\nq = 1\n[t]\nb = 2\n")
    assert len(messages) == 2
    assert [s.name for s in ini.sections] == ["s", "t"]
    assert ini.sections[0].options["a"].value == "1"
    assert ini.sections[1].options["b"].value == "2"


def test_read_ini_reports_unreadable_file(tmp_path):
    errors = Errors()
    missing = tmp_path / "nope.cfg"
    assert read_ini(missing, errors) is None
    (message,) = errors.messages
    assert message.startswith(f"{missing}: cannot read {missing}: No such file")


def test_unreadable_file_is_named_by_its_absolute_path(tmp_path, monkeypatch):
    """The location keeps the name as given; the message says what was tried."""
    monkeypatch.chdir(tmp_path)
    errors = Errors()
    assert read_ini("nope.cfg", errors) is None
    (message,) = errors.messages
    assert message.startswith(f"nope.cfg: cannot read {tmp_path}/nope.cfg: ")


def test_read_ini_uses_display_name(tmp_path):
    path = tmp_path / "w.cfg"
    path.write_text("[s]\nbad\n")
    errors = Errors()
    read_ini(path, errors, display="workers.d/w.cfg")
    assert errors.messages[0].startswith("workers.d/w.cfg:2: ")


@pytest.mark.parametrize(("data", "problem", "line"), [
    (b"[s]\na = 1\nb = \xff\xfe\n", "not valid UTF-8 (byte 0xff)", 3),
    (b"[s]\na = caf\xe9\n", "not valid UTF-8 (byte 0xe9)", 2),
    (b"\xef\xbb\xbf[s]\n\na = \xff\n", "not valid UTF-8 (byte 0xff)", 3),
    (b"[s]\n\na = 1\x00\n", "binary content (NUL byte)", 3),
    (b"\x00\x01\x02", "binary content (NUL byte)", 1),
])
def test_read_ini_refuses_non_text(tmp_path, data, problem, line):
    path = tmp_path / "bin.cfg"
    path.write_bytes(data)
    errors = Errors()
    assert read_ini(path, errors) is None
    (message,) = errors.messages
    assert message.startswith(f"{path}:{line}: ")
    assert problem in message


def test_read_ini_accepts_utf8_with_bom(tmp_path):
    path = tmp_path / "bom.cfg"
    path.write_bytes("\ufeff[s]\na = café\n".encode())
    errors = Errors()
    ini = read_ini(path, errors)
    assert errors.messages == []
    assert ini.sections[0].name == "s"
    assert ini.sections[0].options["a"].value == "café"


def test_password_line_without_equals_is_not_quoted() -> None:
    from anybox_buildbot.errors import Errors
    from anybox_buildbot.inifile import parse_ini

    errors = Errors()
    parse_ini("[w]\npassword s3cret-value\n", "workers.cfg", errors)
    assert errors.messages == ["workers.cfg:2: expected '[section]', 'option = value' or an "
                               "indented continuation line: 'password ...'"]
