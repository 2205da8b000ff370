"""``errors``: the message format with its caret lines, and the collectors.

Carets follow the style guide: under the message, the offending text again
and a ``^`` under the column, only where that column lines up on a
terminal. ``Warnings`` is the one warnings channel: deduplicated, bounded
like ``Errors``, logged once.
"""

from __future__ import annotations

import pytest

from anybox_buildbot.errors import (
    MAX_WARNINGS_SHOWN,
    Diagnostic,
    Errors,
    Location,
    ParseError,
    Warnings,
    caret_lines,
    count_errors,
    format_message,
)


def test_a_column_gives_the_text_and_a_caret_under_it() -> None:
    message = format_message(Location("MANIFEST.cfg", 12, 19), "expected a version after '<'",
                             "postgresql >= 9.6 <", subject="build-for")
    assert message.split("\n") == [
        "MANIFEST.cfg:12: build-for: expected a version after '<' at column 19: "
        "'postgresql >= 9.6 <'",
        "    postgresql >= 9.6 <",
        "                      ^",
    ]


def test_no_column_no_caret() -> None:
    message = format_message(Location("workers.cfg", 3), "missing password", "[w1]")
    assert "\n" not in message


def test_a_caret_may_stand_just_past_the_text() -> None:
    """'expected a version after >=' points at where the version should be."""
    assert caret_lines("pg >=", 6) == ["    pg >=", "         ^"]


@pytest.mark.parametrize(("text", "column"), [
    ("a\tb", 3),                       # a tab is as wide as the terminal wants
    ("postgresql 13 port=ａｂｃ", 20),    # full-width letters take two cells
    ("cafe\u0301 x", 6),                # a combining accent takes none
    ("x" * 201, 5),                    # too long to show again
    ("short", 9),                      # the column is past the text
    ("short", 0),
])
def test_no_caret_where_it_would_stand_wrong(text: str, column: int) -> None:
    assert caret_lines(text, column) == []
    message = format_message(Location("f", 1, column), "bad", text)
    assert "\n" not in message and f"at column {column}" in message


def test_a_parse_error_renders_with_its_caret() -> None:
    exc = ParseError("unknown operator '=>'", "postgresql => 13", column=12)
    assert exc.render(Location("MANIFEST.cfg", 6), "build-requires").endswith(
        "\n    postgresql => 13\n               ^")


def test_errors_keep_diagnostics_and_format_them_when_shown() -> None:
    errors = Errors()
    errors.add(Location("a.cfg", 2, 3), "bad", "xyz", "fix it", "worker [w]")
    (diagnostic,) = errors.diagnostics
    assert diagnostic == Diagnostic(Location("a.cfg", 2, 3), "bad", "xyz", "fix it",
                                    "worker [w]")
    assert errors.messages == [diagnostic.render()]
    assert errors.messages[0].startswith("a.cfg:2: worker [w]: bad at column 3: 'xyz' (fix it)")


def test_warnings_count_each_warning_once() -> None:
    warnings = Warnings()
    for _ in range(3):     # three stages, or three sections inheriting one line
        warnings.add(Location("M.cfg", 4), "repository not polled", category="polling")
    warnings.add(Location("M.cfg", 5), "repository not polled", category="polling")
    assert warnings.count == 2
    assert warnings.messages == ["M.cfg:4: repository not polled",
                                 "M.cfg:5: repository not polled"]


def test_warnings_are_bounded_and_summed_up_per_file() -> None:
    warnings = Warnings()
    for line in range(1, MAX_WARNINGS_SHOWN + 8):
        warnings.add(Location("M.cfg", line), "not created")
    report = warnings.report()
    assert len(report) == MAX_WARNINGS_SHOWN + 1
    assert report[-1] == "... and 7 more warnings: 7 in M.cfg"
    assert count_errors(report) == MAX_WARNINGS_SHOWN + 7 == warnings.count


def test_pending_gives_each_warning_once() -> None:
    """The master logs what is pending after each public stage: a warning
    found by two stages is still logged once per load."""
    warnings = Warnings()
    logged: list[str] = []
    warnings.add(None, "first")
    warnings.log(logged.append)
    warnings.add(None, "first")
    warnings.add(None, "second")
    warnings.log(logged.append)
    warnings.log(logged.append)
    assert logged == ["anybox_buildbot: WARNING: first", "anybox_buildbot: WARNING: second"]


def test_pending_counts_what_is_past_the_bound() -> None:
    warnings = Warnings()
    for line in range(1, MAX_WARNINGS_SHOWN + 3):
        warnings.add(Location("M.cfg", line), "w")
    lines = warnings.pending()
    assert len(lines) == MAX_WARNINGS_SHOWN + 1 and lines[-1] == "... and 2 more warnings"
    assert warnings.pending() == []

