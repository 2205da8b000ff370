"""Requirement lines: ``NAME [CLAUSE ...] [OR CLAUSE ...]``.

Used by ``build-requires``, ``build-for`` and ``build-only-if-requires``.
A tiny tokenizer feeds a recursive-descent parser; every syntax error
carries the 1-based column of the offending token so messages can point at
it. Matching is pure and cheap: a requirement is a frozen value whose
alternatives are tuples of clauses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import ParseError
from .version import Version, parse_version

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_OP_CHARS = "=!<>~"
_VALID_OPS_HINT = "valid operators: " + " ".join(OPERATORS)


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    column: int  # 1-based


def tokenize(line: str) -> Iterator[Token]:
    """Split on whitespace and commas, remembering columns.

    Commas are only separators between clauses (``>= 3.9, != 3.10``).
    """
    for match in re.finditer(r"[^\s,]+", line):
        yield Token(match.group(), match.start() + 1)


@dataclass(frozen=True, slots=True)
class Clause:
    """``OP VERSION``; ``prefix`` is set for ``==9.*`` / ``!=9.*``."""

    op: str
    version: Version
    prefix: bool = False

    def matches(self, version: Version | None) -> bool:
        if version is None:
            return False
        if self.prefix:
            hit = _prefix_match(self.version, version)
            return hit if self.op == "==" else not hit
        if self.op == "==":
            return version.same_as(self.version)
        if self.op == "!=":
            return not version.same_as(self.version)
        if version.key is None:
            return False  # ordering needs an orderable worker version
        mine = self.version.key
        theirs = version.key
        if self.op == "<":
            return theirs < mine
        if self.op == "<=":
            return theirs <= mine
        if self.op == ">":
            return theirs > mine
        return theirs >= mine

    def __str__(self) -> str:
        return f"{self.op} {self.version.text}{'.*' if self.prefix else ''}"


def _prefix_match(prefix: Version, version: Version) -> bool:
    if prefix.key is not None and version.key is not None:
        wanted = prefix.key[0]
        have = version.key[0] + (0,) * max(0, len(wanted) - len(version.key[0]))
        return have[: len(wanted)] == wanted
    return version.text == prefix.text or version.text.startswith(prefix.text + ".")


@dataclass(frozen=True, slots=True)
class Requirement:
    """A capability name and alternatives (OR) of clause conjunctions (AND).

    No alternatives means any version, including an unversioned capability.
    """

    name: str
    alternatives: tuple[tuple[Clause, ...], ...] = ()
    text: str = ""

    @property
    def is_bare(self) -> bool:
        return not self.alternatives

    def matches(self, version: Version | None) -> bool:
        if not self.alternatives:
            return True
        return any(all(c.matches(version) for c in conj) for conj in self.alternatives)

    def __str__(self) -> str:
        if not self.alternatives:
            return self.name
        alts = " OR ".join(" ".join(str(c) for c in conj) for conj in self.alternatives)
        return f"{self.name} {alts}"


def _split_operator(token: Token) -> tuple[str, str]:
    """Return (operator, attached version text) or raise on a bad operator."""
    run = len(token.text) - len(token.text.lstrip(_OP_CHARS))
    op = token.text[:run]
    if op not in OPERATORS:
        raise ParseError(f"unknown operator {op!r}", None, _VALID_OPS_HINT, token.column)
    return op, token.text[run:]


class _Parser:
    """Recursive descent over the tokens of one requirement line."""

    def __init__(self, line: str) -> None:
        self.line = line
        self.tokens = list(tokenize(line))
        self.pos = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> Token | None:
        token = self.peek()
        if token is not None:
            self.pos += 1
        return token

    def end_column(self) -> int:
        return len(self.line.rstrip()) + 1

    def fail(self, problem: str, column: int, hint: str | None = None) -> ParseError:
        return ParseError(problem, self.line.strip(), hint, column)

    def requirement(self) -> Requirement:
        """requirement := NAME [alternatives]"""
        token = self.next()
        if token is None:
            raise self.fail("empty requirement", 1, "write NAME [OP VERSION ...]")
        if not NAME_RE.fullmatch(token.text):
            raise self.fail(f"invalid capability name {token.text!r}", token.column,
                            "names start with a letter or digit, then letters, digits, "
                            "'_', '.', '+' or '-'")
        if self.peek() is None:
            return Requirement(token.text, (), self.line.strip())
        alternatives = self.alternatives()
        return Requirement(token.text, alternatives, self.line.strip())

    def alternatives(self) -> tuple[tuple[Clause, ...], ...]:
        """alternatives := conjunction (OR conjunction)*"""
        result = [self.conjunction()]
        while self.peek() is not None:
            token = self.next()
            assert token is not None and token.text.upper() == "OR"
            if self.peek() is None:
                raise self.fail("expected a clause after 'OR'", self.end_column(),
                                "write e.g. 'OR == 8.4', or remove the trailing OR")
            result.append(self.conjunction())
        return tuple(result)

    def conjunction(self) -> tuple[Clause, ...]:
        """conjunction := clause (','? clause)*  -- stops before OR or the end"""
        clauses = []
        while True:
            token = self.peek()
            if token is None or token.text.upper() == "OR":
                break
            clauses.append(self.clause())
        if not clauses:
            token = self.peek()
            column = token.column if token else self.end_column()
            raise self.fail("expected a clause before 'OR'", column,
                            "write e.g. 'NAME >= 9.6 OR == 8.4'")
        return tuple(clauses)

    def clause(self) -> Clause:
        """clause := OP VERSION | OP VERSION.*   (OP may be glued to VERSION)"""
        token = self.next()
        assert token is not None
        if token.text[0] not in _OP_CHARS:
            hint = (f"did you mean '== {token.text}'?" if token.text[0].isdigit()
                    else _VALID_OPS_HINT + "; one capability name per line, first")
            raise self.fail(f"expected an operator before {token.text!r}", token.column, hint)
        try:
            op, text = _split_operator(token)
        except ParseError as exc:
            exc.text = self.line.strip()
            raise
        column = token.column + len(op)
        if text.upper() == "OR":
            # '==OR' would print as '== OR', which reads as a missing version.
            raise self.fail(f"expected a version after {op!r}", token.column,
                            "'OR' separates alternatives, it is not a version")
        if not text:
            following = self.peek()
            if (following is None or following.text.upper() == "OR"
                    or following.text[0] in _OP_CHARS):
                raise self.fail(f"expected a version after {op!r}", token.column,
                                "e.g. 'postgresql >= 9.6'")
            self.next()
            text, column = following.text, following.column
        prefix = False
        if text.endswith(".*"):
            if op not in ("==", "!="):
                raise self.fail(f"wildcard versions only go with '==' or '!=', not {op!r}",
                                column)
            text, prefix = text[:-2], True
        if not text or "*" in text or any(c in text for c in "=<>!"):
            raise self.fail(f"invalid version {text or '*'!r}", column,
                            "versions look like 9.6, 13, 9.2-devel, 3.11rc1, or 9.*")
        version = parse_version(text)
        if op not in ("==", "!=") and not version.is_orderable:
            raise self.fail(f"version {text!r} cannot be ordered, so {op!r} cannot apply",
                            column, "use '==' or '!=' for names like this, or a numeric "
                            "version such as 9.6")
        return Clause(op, version, prefix)


def _is_unsatisfiable(clauses: tuple[Clause, ...]) -> bool:
    """True when no version can satisfy all the clauses together.

    Lower/upper bounds come from ordering clauses; exact clauses must fall in
    them and agree with each other and with ``!=`` clauses.
    """
    low: tuple | None = None
    low_strict = False
    high: tuple | None = None
    high_strict = False
    exact: list[Clause] = []
    for clause in clauses:
        key = clause.version.key
        if clause.op in (">", ">="):
            strict = clause.op == ">"
            if low is None or key > low or (key == low and strict):
                low, low_strict = key, strict
        elif clause.op in ("<", "<="):
            strict = clause.op == "<"
            if high is None or key < high or (key == high and strict):
                high, high_strict = key, strict
        elif clause.op == "==" and not clause.prefix:
            exact.append(clause)
    if low is not None and high is not None:
        if low > high or (low == high and (low_strict or high_strict)):
            return True
    for pinned in exact:
        if not all(other.matches(pinned.version) for other in clauses):
            return True
    return False


_cache: dict[str, Requirement] = {}


def parse_requirement(line: str) -> Requirement:
    """Parse one requirement line; raise ``ParseError`` with a column.

    Results are cached: a fleet of manifests repeats the same few lines.
    """
    cached = _cache.get(line)
    if cached is not None:
        return cached
    requirement = _Parser(line).requirement()
    for conj in requirement.alternatives:
        if _is_unsatisfiable(conj):
            text = " ".join(str(c) for c in conj)
            raise ParseError(f"no version can satisfy '{requirement.name} {text}'",
                             line.strip(), "check the bounds: the lower one must be below "
                             "the upper one", None)
    if len(_cache) < 100_000:
        _cache[line] = requirement
    return requirement
