"""Value rules every parser shares: numbers, booleans, lists, argument
lists, e-mail addresses, secret references, buildout part names and pip
requirements.

Why one module: the same kind of value is written in several files (a
whole number in ``workers.cfg``, in a manifest option and in a step-set
option; an e-mail address in a ``notify`` line and in
``notify_on_missing``). Written once here, a value accepted in one place is
accepted in every other, and a fix (``'²'.isdigit()`` is true, ``int()``
refuses 5000 digits) lands everywhere at once.

Each rule is a pure function. Those that can refuse a value raise
:class:`RuleError` with the problem in words (and a hint when one helps);
the parser that called it adds the file, line and subject. Names and paths
that become file names are the business of :mod:`.confine`. This module
imports nothing from Buildbot.
"""

from __future__ import annotations

import re
import shlex

#: Whole numbers have at most this many digits: every count, timer and
#: port we take fits, and ``int()`` of thousands of digits is refused by
#: Python (and slow before that).
MAX_DIGITS = 18
#: Longest text split into arguments: Linux's limit on one argument
#: (MAX_ARG_STRLEN); ``shlex`` is quadratic on a long word.
MAX_ARGUMENTS_LENGTH = 128 * 1024

TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")

#: A secret reference, ``%(secret:NAME)s``: NAME is one or more ``/``
#: separated parts (a Vault path, a file of a secrets folder), each of
#: letters, digits, ``_``, ``-`` and ``.``, never starting with ``.`` (no
#: ``..`` climbing out of a secrets folder).
SECRET_NAME = r"[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*"
SECRET_REFERENCE = re.compile(rf"%\(secret:(?P<name>{SECRET_NAME})\)s")
SECRET_FORM = "%(secret:NAME)s"

#: What makes shlex.split differ from splitting on white space.
_SHELL_QUOTING = re.compile(r"['\"\\]")
#: A word as POSIX shlex splits an unquoted text: shlex's white space is
#: space, tab, CR and LF only (not every Unicode space ``str.split`` knows).
_SHELL_WORD = re.compile(r"[^ \t\r\n]+")
#: ``user@host.domain`` as we accept it (no spaces, no display name) ...
_MAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
#: ... and as Buildbot's MailNotifier accepts a recipient
#: (``buildbot.reporters.mail.VALID_EMAIL``, copied: that module warns on
#: import). A recipient must pass both, or Buildbot would drop it later
#: ("INVALID EMAIL" in twistd.log) without saying which line wrote it.
_BB_ADDR = r"(?:\S+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+\.?)"
BUILDBOT_VALID_EMAIL = re.compile(rf"^(?:{_BB_ADDR}|(.+\s+)?<{_BB_ADDR}>\s*)$")

#: Buildout section (part) and option names that reach ``bin/buildout``'s
#: command line (``buildout-options``, ``functional.parts``) or a script
#: path (``bin/<buildout-part>``): what real buildouts use
#: (``versions:zc.buildout``, ``buildout:always-checkout``, ``odoo``),
#: never a leading ``-`` (an option of bin/buildout: ``-c FILE``, ``-D``)
#: nor ``.`` (``..``), no ``:``, ``=``, ``/`` or whitespace.
PART_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
PART_NAME_RULE = "letters, digits, '_', '.' and '-', starting with a letter, a digit or '_'"


class RuleError(ValueError):
    """A value a rule refuses: ``problem`` in words, ``hint`` if any, and
    ``text``, the part of the value at fault when it is not the whole."""

    def __init__(self, problem: str, hint: str | None = None, text: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint
        self.text = text


def whole_number(text: str, *, what: str = "a whole number", minimum: int = 0,
                 maximum: int | None = None) -> int:
    """``text`` as a whole number between ``minimum`` and ``maximum``.

    ASCII digits only: ``int()`` would also take ``+5``, ``1_000``, ``٣``
    or `` 5``, and ``'²'.isdigit()`` is true although ``int('²')`` fails.
    """
    if minimum >= 0 and text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        raise RuleError("must not be negative")
    if not (text.isascii() and text.isdigit()):
        raise RuleError(f"expected {what}")
    if len(text.lstrip("0")) > MAX_DIGITS:
        raise RuleError("number too large")
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        raise RuleError(f"expected {what}")
    return value


def boolean(text: str) -> bool:
    """``true/yes/on/1`` or ``false/no/off/0``, any case."""
    parsed = parse_boolean(text)
    if parsed is None:
        raise RuleError("expected true or false")
    return parsed


def parse_boolean(text: str) -> bool | None:
    """Like :func:`boolean`, but None for anything else."""
    lowered = text.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None


def split_list(text: str) -> list[str]:
    """Items separated by commas and/or white space (lines included)."""
    return text.replace(",", " ").split()


def split_arguments(text: str) -> tuple[str, ...]:
    """Words as a POSIX shell splits them (quotes group, ``\\`` escapes).

    Nothing is expanded and no shell ever sees the text: each word is one
    argument of a command run without a shell.
    """
    if len(text) > MAX_ARGUMENTS_LENGTH:
        raise RuleError(f"command line too long ({len(text)} characters, at most "
                        f"{MAX_ARGUMENTS_LENGTH})",
                        hint="put a long command in a script of the buildout")
    if not _SHELL_QUOTING.search(text):
        # No quote nor backslash: POSIX splitting is splitting on its four
        # white-space characters, without shlex's per-character loop.
        return tuple(_SHELL_WORD.findall(text))
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise RuleError(f"cannot split into arguments: {exc}",
                        hint="balance the quotes") from None


def is_mail_address(text: str) -> bool:
    """A plain ``user@host.domain`` recipient, as MailNotifier sends to.

    (Buildbot wants a dot in the domain of recipients: not ``ops@localhost``.)
    """
    return bool(_MAIL.fullmatch(text) and BUILDBOT_VALID_EMAIL.match(text))


def is_mail_sender(text: str) -> bool:
    """A ``From:`` address: like a recipient, but ``buildbot@localhost`` is fine."""
    return bool(_MAIL.fullmatch(text))


def secret_name(text: object) -> str | None:
    """NAME of a text that is exactly ``%(secret:NAME)s``, else None (for
    anything else, a value that is not even a string included)."""
    match = SECRET_REFERENCE.fullmatch(text) if isinstance(text, str) else None
    return match["name"] if match else None


def is_part_name(text: str) -> bool:
    return PART_NAME.fullmatch(text) is not None


#: A pip requirement as ``bootstrap-packages`` takes it: PEP 508's name,
#: extras and version specifiers, written without spaces; no URL, path,
#: environment marker or option (each becomes one argument of ``pip
#: install``: a leading ``-`` would be an option, a URL or path would
#: install code from anywhere).
_REQ_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_REQ_SPEC = r"(?:~=|===|==|!=|<=|>=|<|>)[A-Za-z0-9*+!._]+"
PIP_REQUIREMENT = re.compile(
    rf"""
    (?P<name>{_REQ_NAME})                            # zope.interface
    (?:\[{_REQ_NAME}(?:,{_REQ_NAME})*\])?            # [test,docs]
    (?:{_REQ_SPEC}(?:,{_REQ_SPEC})*)?                # >=5,<6
    """, re.VERBOSE)
#: What pip takes for an archive (its ARCHIVE_EXTENSIONS): a requirement so
#: named that is a file of the working directory (the checkout, repository
#: content) is installed from that file.
ARCHIVE_SUFFIXES = (".zip", ".whl", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz",
                    ".txz", ".tlz", ".tar.lz", ".tar.lzma")
PIP_REQUIREMENT_FORM = "NAME[EXTRAS]SPECIFIERS without spaces, e.g. horse-with-no-namespace, " \
    "zope.interface>=5,<7 or coverage[toml]==7.4.0"


def pip_requirement(text: str) -> str:
    """``text`` if it is a requirement pip may be given (``PIP_REQUIREMENT``)."""
    if text.startswith("-"):
        raise RuleError("a pip option, not a requirement",
                        hint="only requirements are installed: " + PIP_REQUIREMENT_FORM)
    if "://" in text or "@" in text or "/" in text:
        raise RuleError("URLs and paths are refused",
                        hint="packages come from the worker's package index: "
                        + PIP_REQUIREMENT_FORM)
    if ";" in text:
        raise RuleError("environment markers are refused",
                        hint="the venv is made for one interpreter: " + PIP_REQUIREMENT_FORM)
    match = PIP_REQUIREMENT.fullmatch(text)
    if not match:
        raise RuleError("not a pip requirement", hint=PIP_REQUIREMENT_FORM)
    if match["name"].lower().endswith(ARCHIVE_SUFFIXES):
        raise RuleError("a local archive name, not a requirement",
                        hint="pip would install a file of that name from the checkout; "
                        f"names ending in {', '.join(ARCHIVE_SUFFIXES)} are refused: "
                        + PIP_REQUIREMENT_FORM)
    return text
