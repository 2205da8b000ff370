"""The value rules (rules.py) and that every parser uses the same one.

Each rule is checked on its own with a table, then through the parsers
that apply it (a manifest option, a worker option, a step-set option), so
a value one of them accepts is accepted by all, and refused by all.
"""

from __future__ import annotations

import random
import shlex

import pytest
from unit_helpers import GIT, write

from anybox_buildbot.errors import Errors
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.notify import parse_notify_line
from anybox_buildbot.rules import (
    MAX_ARGUMENTS_LENGTH,
    RuleError,
    boolean,
    is_mail_address,
    is_mail_sender,
    is_part_name,
    secret_name,
    split_arguments,
    split_list,
    whole_number,
)
from anybox_buildbot.subfactories import builtin_catalog
from anybox_buildbot.workers import load_workers


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("7", 7), ("0012", 12), ("9" * 18, int("9" * 18)), ("0" * 30 + "5", 5),
])
def test_whole_numbers(text: str, value: int) -> None:
    assert whole_number(text) == value


@pytest.mark.parametrize(("text", "problem"), [
    ("\u00b2", "expected a whole number"),      # '²'.isdigit() is true, int() refuses it
    ("\u0663", "expected a whole number"),      # Arabic-Indic three: int() would take it
    ("+5", "expected a whole number"),
    ("1_000", "expected a whole number"),
    (" 5", "expected a whole number"),
    ("1e3", "expected a whole number"),
    ("", "expected a whole number"),
    ("-2", "must not be negative"),
    ("9" * 19, "number too large"),
    ("9" * 5000, "number too large"),           # past Python's int-to-str limit
])
def test_whole_numbers_refused(text: str, problem: str) -> None:
    with pytest.raises(RuleError) as info:
        whole_number(text)
    assert info.value.problem == problem


def test_whole_number_bounds_and_wording() -> None:
    port = {"what": "a TCP port number", "minimum": 1, "maximum": 65535}
    assert whole_number("65535", **port) == 65535
    for text in ("0", "65536", "\u00b2"):
        with pytest.raises(RuleError, match="^expected a TCP port number$"):
            whole_number(text, **port)


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("YES", True), ("On", True), ("1", True),
    ("false", False), ("no", False), ("OFF", False), ("0", False),
])
def test_booleans(text: str, value: bool) -> None:
    assert boolean(text) is value


@pytest.mark.parametrize("text", ["maybe", "", "y", "2", "tru e"])
def test_booleans_refused(text: str) -> None:
    with pytest.raises(RuleError, match="expected true or false"):
        boolean(text)


def test_lists_split_on_commas_and_white_space() -> None:
    assert split_list("a, b,c\n d  e,,") == ["a", "b", "c", "d", "e"]
    assert split_list(" , ") == []


def test_arguments_split_like_a_shell_and_never_run_one() -> None:
    assert split_arguments("-k 'a and b' $(x) ;") == ("-k", "a and b", "$(x)", ";")
    with pytest.raises(RuleError, match="cannot split into arguments: No closing quotation"):
        split_arguments("-k 'a")
    with pytest.raises(RuleError, match="command line too long"):
        split_arguments("x" * (MAX_ARGUMENTS_LENGTH + 1))


def test_split_arguments_splits_as_posix_shlex():
    """The quick path for texts without quotes or backslashes gives what
    shlex.split gives, on the white space shlex knows and the one it does
    not (vertical tab, form feed, no-break space, line separator)."""
    alphabet = list("ab -=\t\n\r\x0b\x0c\xa0\u2028#;$&|'\"\\")
    rng = random.Random(14)
    compared = 0
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        try:
            expected = tuple(shlex.split(text))
        except ValueError:
            continue
        assert split_arguments(text) == expected, text
        compared += 1
    assert compared > 10000
    assert split_arguments("a\x0bb\xa0c  d") == ("a\x0bb\xa0c", "d")


@pytest.mark.parametrize(("text", "recipient", "sender"), [
    ("ops@example.com", True, True),
    ("o.p+s@mail.example.co.uk", True, True),
    ("ops@localhost", False, True),      # Buildbot drops such a recipient
    ("ops", False, False),
    ("Ops <ops@example.com>", False, False),
    ("ops@@example.com", False, False),
    ("ops@exa mple.com", False, False),
])
def test_mail_addresses(text: str, recipient: bool, sender: bool) -> None:
    assert is_mail_address(text) is recipient
    assert is_mail_sender(text) is sender


@pytest.mark.parametrize(("text", "name"), [
    ("%(secret:pw)s", "pw"),
    ("%(secret:ci_worker-1.pw)s", "ci_worker-1.pw"),
    ("%(secret:workers/ci-1)s", "workers/ci-1"),      # a Vault path
    ("%(secret:../pw)s", None),                       # out of a secrets folder
    ("%(secret:a/../pw)s", None),
    ("%(secret:.hidden)s", None),
    ("%(secret:ci pw)s", None),
    ("%(secret:pw)", None),
    ("%(secret:)s", None),
    ("pw", None),
])
def test_secret_references(text: str, name: str | None) -> None:
    assert secret_name(text) == name


@pytest.mark.parametrize(("text", "ok"), [
    ("odoo", True), ("odoo16", True), ("selenium-driver", True), ("a.b_c", True),
    ("-c", False), (".hidden", False), ("../odoo", False), ("a b", False), ("", False),
])
def test_part_names(text: str, ok: bool) -> None:
    assert is_part_name(text) is ok


# -- the same rule through every parser ---------------------------------------

def errors_of(loader, path, **kwargs) -> list[str]:
    errors = Errors()
    loader([path], errors, **kwargs)
    return errors.messages


@pytest.mark.parametrize("text", ["\u00b2", "9" * 5000, "-1", "1_000"])
def test_one_number_rule_in_workers_manifests_and_step_options(tmp_path, text) -> None:
    with pytest.raises(RuleError) as info:
        whole_number(text)
    problem = info.value.problem
    worker = write(tmp_path, "workers.cfg", f"[w1]\npassword = pw\nmax_builds = {text}\n")
    manifest = write(tmp_path, "MANIFEST.cfg", f"[a]\n{GIT}\ntree-stable-timer = {text}\n"
                     "post-buildout-steps = static-analysis\n"
                     f"static-analysis.max-warnings = {text}\n")
    (in_worker,) = errors_of(load_workers, worker)
    in_timer, in_step_set = errors_of(load_manifests, manifest, step_sets=builtin_catalog())
    assert f"worker [w1]: {problem}" in in_worker
    assert f"tree-stable-timer: {problem}" in in_timer
    assert f"static-analysis.max-warnings: {problem}" in in_step_set


def test_one_mail_rule_for_notify_lines_and_notify_on_missing(tmp_path) -> None:
    for address in ("ops@example.com", "ops@localhost"):
        worker = write(tmp_path, "workers.cfg",
                       f"[w1]\npassword = pw\nnotify_on_missing = {address}\n")
        refused_by_workers = bool(errors_of(load_workers, worker))
        try:
            parse_notify_line(f"mail {address}")
            refused_by_notify = False
        except Exception:
            refused_by_notify = True
        assert refused_by_workers is refused_by_notify is (not is_mail_address(address))


def test_one_part_name_rule_for_buildout_part_and_functional_parts(tmp_path) -> None:
    manifest = write(tmp_path, "MANIFEST.cfg", f"[a]\n{GIT}\nbuildout-part = -c\n"
                     "post-buildout-steps = functional\nfunctional.commands = bin/x\n"
                     "functional.parts = -c\n")
    messages = errors_of(load_manifests, manifest, step_sets=builtin_catalog())
    assert [m.split(": ", 2)[1] for m in messages] == [
        "buildout [a] buildout-part", "buildout [a] functional.parts"]
    assert all("invalid buildout part name: '-c'" in m for m in messages)
