"""Property tests of the parsers (Hypothesis).

- No text, however odd, makes ``parse_requirement`` / ``parse_capability``
  raise anything but ``ParseError``; no bytes make the loaders raise
  anything but ``ConfigError``.
- Formatting then parsing gives back an equal value (capabilities,
  requirements).
- ``sort_key`` is a total order on versions, consistent with ``==``.

Example counts are bounded so that this folder stays well under 10 s.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import anybox_buildbot
from anybox_buildbot.capability import Capability, parse_capability
from anybox_buildbot.confine import SAFE_NAME
from anybox_buildbot.constraint import OPERATORS, parse_requirement
from anybox_buildbot.errors import Errors, ParseError
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.version import Version, parse_version, sort_key
from anybox_buildbot.workers import load_workers

FAST = settings(max_examples=100, deadline=None, database=None)
FILES = settings(max_examples=40, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------ alphabet

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,10}", fullmatch=True)
well_known = st.sampled_from(["postgresql", "python", "selenium-server", "ORACLE-client",
                              "xORx", "OR", "or", "private-git-access"])
cap_names = st.one_of(names, well_known)
TAGS = ["", "devel", "dev", "a", "alpha", "b", "beta", "rc", "c", "RC", "Dev"]


@st.composite
def orderable_texts(draw, max_parts: int = 4) -> str:
    """Version spellings of the documented shape: 9, 9.2.0, 9.2-devel, 3.11rc1."""
    parts = draw(st.lists(st.integers(0, 12), min_size=1, max_size=max_parts))
    text = ".".join(str(p) for p in parts)
    tag = draw(st.sampled_from(TAGS))
    if tag:
        text += draw(st.sampled_from(["", "-", ".", "_"])) + tag
        number = draw(st.none() | st.integers(0, 12))
        if number is not None:
            text += str(number)
    return text


odd_words = st.sampled_from(["trusty", "bionic", "latest", "9.x", "v13", "13-beta-2",
                             "1.2.3.4.5a", "2024-01", "0013", "9..2"])
# 'OR' (any case) is the alternative separator, never a version.
odd_texts = st.one_of(odd_words, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+~-]{0,8}",
                                               fullmatch=True).filter(lambda t: t.upper() != "OR"))
version_texts = st.one_of(orderable_texts(), odd_texts)
all_ops = st.sampled_from([*OPERATORS, "=>", "=<", ">>", "~=", "=", "<>", "===", "!"])


@st.composite
def grammar_text(draw) -> str:
    """Lines built from the requirement/capability alphabet, mostly wrong."""
    piece = st.one_of(cap_names, version_texts, all_ops, st.sampled_from(
        ["OR", "or", ",", "9.*", "==9.*", ">=9.6", "==OR", "!=or", "port=5432", "bin=", "=x",
         "*", "#"]))
    words = draw(st.lists(piece, max_size=8))
    seps = st.sampled_from([" ", "  ", ",", ", ", "\t", ""])
    return "".join(w + draw(seps) for w in words)


any_line = st.one_of(st.text(max_size=60), grammar_text())


# ------------------------------------------------------------- never crashes

@FAST
@given(any_line)
def test_parse_requirement_raises_only_parse_error(text):
    try:
        requirement = parse_requirement(text)
    except ParseError as exc:
        assert exc.problem
        assert exc.column is None or 1 <= exc.column <= len(text) + 1
    else:
        assert requirement.name == text.replace(",", " ").split()[0]


@FAST
@given(any_line)
def test_parse_capability_raises_only_parse_error(text):
    try:
        cap = parse_capability(text)
    except ParseError as exc:
        assert exc.problem
        assert exc.column is None or 1 <= exc.column <= len(text)
    else:
        assert cap.name == text.split()[0]


# ---------------------------------------------------------- loaders and junk

KEYS = ["password", "capability", "build-only-if-requires", "max_builds", "worker_priority",
        "notify_on_missing", "keepalive_interval", "arch", "buildout", "inherit",
        "build-requires", "build-for", "watch", "auto-watch", "tree-stable-timer", "nightly",
        "buildout-options", "post-buildout-steps", "test-command", "env.PGPORT", "pytest.args",
        "passwd", "max_build"]
SECTIONS = ["w1", "w2", "app", "base", "DEFAULT", "", "a b", "app"]
VALUES = ["s3cret", "%(secret:pw)s", "%(secret:pw", "2", "two", "-1", "",
          "standalone ok.cfg", "standalone missing.cfg",
          "git https://example.com/app.git main buildout.cfg", "hg https://h/r default",
          "base", "app", "w1", "0 3 * * *", "every night", "true", "maybe",
          "%(cap(port):-5432)s", "%(oops", "bin/test -k 'slow", "buildout:newest=false",
          "ops@example.com", "postgresql 13 port=5434", "python 3.11 bin=/usr/bin"]


@st.composite
def ini_text(draw) -> str:
    """Text shaped like workers.cfg / MANIFEST.cfg, with random mistakes."""
    value = st.one_of(st.sampled_from(VALUES), grammar_text(), st.text(max_size=20))
    line = st.one_of(
        st.builds(lambda s: f"[{s}]", st.one_of(st.sampled_from(SECTIONS), st.text(max_size=8))),
        st.builds(lambda k, sep, v: f"{k}{sep}{v}", st.one_of(st.sampled_from(KEYS), names),
                  st.sampled_from([" = ", "=", ": ", " =  "]), value),
        st.builds(lambda ws, v: ws + v, st.sampled_from(["    ", "\t", " "]), value),
        st.sampled_from(["", "# comment", "; comment", "  ", "[w1", "key", "= value"]),
        st.text(max_size=30),
    )
    lines = draw(st.lists(line, max_size=14))
    return draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as name:
        path = Path(name)
        (path / "ok.cfg").write_text("[buildout]\nparts =\n")
        yield path


def load_both(folder: Path, data: bytes) -> None:
    """Load ``data`` as a fragment and as a manifest: ConfigError or fine."""
    path = folder / "input.cfg"
    path.write_bytes(data)
    for loader in (load_workers, load_manifests):
        errors = Errors()
        loader([path], errors)
        try:
            errors.raise_if_any()
        except anybox_buildbot.ConfigError as exc:
            assert exc.errors
            assert all(m.startswith(f"{path}") for m in exc.errors), exc.errors


@FILES
@given(text=ini_text(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]))
def test_loaders_on_ini_like_text(folder, text, encoding):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    load_both(folder, data)


@FILES
@given(st.binary(max_size=400))
def test_loaders_on_random_bytes(folder, data):
    load_both(folder, data)


@FILES
@given(prefix=ini_text(), junk=st.binary(min_size=1, max_size=40), suffix=ini_text())
def test_loaders_on_text_with_junk_bytes(folder, prefix, junk, suffix):
    load_both(folder, prefix.encode() + b"\n" + junk + b"\n" + suffix.encode())


# ---------------------------------------------------------------- round trips

def _no_space(text: str) -> bool:
    return not any(ch.isspace() for ch in text)


# Capability versions become part of builder names: confine.SAFE_NAME only.
cap_versions = st.one_of(
    version_texts.filter(lambda t: SAFE_NAME.fullmatch(t) is not None),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,7}", fullmatch=True),
)
unsafe_versions = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="="),
                          min_size=1, max_size=8).filter(
    lambda t: _no_space(t) and SAFE_NAME.fullmatch(t) is None)
option_values = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1,
                        max_size=10).filter(_no_space)


@st.composite
def capabilities(draw) -> Capability:
    version = draw(st.none() | cap_versions)
    keys = draw(st.lists(st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,6}", fullmatch=True),
                         max_size=4, unique=True))
    options = {key: draw(option_values) for key in keys}
    return Capability(draw(cap_names), parse_version(version) if version else None, options)


@FAST
@given(capabilities())
def test_capability_format_round_trip(cap):
    parsed = parse_capability(cap.format())
    assert parsed == cap
    assert parsed.version_text == cap.version_text  # the spelling is kept
    assert list(parsed.options.items()) == list(cap.options.items())


@FAST
@given(cap_names, unsafe_versions)
def test_capability_version_outside_the_safe_set_is_refused(name, version):
    """Whatever the characters: never a path-like part of a builder name."""
    line = f"{name} {version} port=1"
    try:
        parse_capability(line)
    except ParseError as exc:
        assert exc.problem == f"invalid version {version!r}"
        assert exc.column == len(name) + 2
    else:
        raise AssertionError(f"accepted {line!r}")


@st.composite
def clause_texts(draw) -> str:
    """One valid clause in one of its surface spellings."""
    op = draw(st.sampled_from(OPERATORS))
    if op in ("==", "!=") and draw(st.booleans()):
        version = draw(st.one_of(odd_texts, orderable_texts()))
        if draw(st.booleans()):
            version += ".*"
    else:
        version = draw(orderable_texts())
    return op + draw(st.sampled_from([" ", "", "  "])) + version


@st.composite
def requirement_texts(draw) -> str:
    name = draw(cap_names)
    alternatives = draw(st.lists(st.lists(clause_texts(), min_size=1, max_size=3),
                                 max_size=3))
    conj_sep = st.sampled_from([" ", ", ", ",", " , "])
    or_word = st.sampled_from([" OR ", " or ", " Or ", ", OR "])
    text = name
    for i, conj in enumerate(alternatives):
        text += draw(or_word) if i else " "
        text += "".join(c if j == 0 else draw(conj_sep) + c for j, c in enumerate(conj))
    return text


SAMPLE_VERSIONS = [None, *map(parse_version, [
    "0", "8.4", "9", "9.0", "9.1", "9.2-devel", "9.2a1", "9.2rc1", "9.2", "9.2.0", "9.6",
    "10", "12.1", "13", "3.9", "3.10", "3.11", "trusty", "latest", "9.x", "OR"])]


@FAST
@given(requirement_texts(), st.lists(orderable_texts() | odd_texts, max_size=5))
def test_requirement_str_round_trip(text, extra_versions):
    try:
        req = parse_requirement(text)
    except ParseError as exc:
        assume("no version can satisfy" not in exc.problem)  # a generator limitation
        raise
    again = parse_requirement(str(req))
    assert again.name == req.name
    assert again.alternatives == req.alternatives
    for version in SAMPLE_VERSIONS + [parse_version(v) for v in extra_versions]:
        assert again.matches(version) == req.matches(version), version
    assert str(again) == str(req)


# ------------------------------------------------------------- version order

versions = st.builds(parse_version, st.one_of(
    orderable_texts(), odd_texts, st.text(max_size=6),
    st.builds(lambda t: t + ".0", orderable_texts(max_parts=2))))


@FAST
@given(versions, versions, versions)
def test_sort_key_is_a_total_order_consistent_with_eq(a, b, c):
    ka, kb, kc = sort_key(a), sort_key(b), sort_key(c)
    # totality: exactly one of <, ==, > (and no TypeError between shapes)
    assert [ka < kb, ka == kb, ka > kb].count(True) == 1
    # antisymmetry
    if ka <= kb and kb <= ka:
        assert a == b
    # transitivity, in every order of the three
    for x, y, z in ((ka, kb, kc), (ka, kc, kb), (kb, ka, kc), (kb, kc, ka), (kc, ka, kb),
                    (kc, kb, ka)):
        if x <= y and y <= z:
            assert x <= z
        if x < y and y < z:
            assert x < z
    # consistent with ==, and with the Version's own < and hash
    assert (ka == kb) == (a == b)
    assert (a < b) == (ka < kb)
    # all six comparisons of Version itself agree with the key
    assert ((a <= b), (a > b), (a >= b), (a != b)) == (ka <= kb, ka > kb, ka >= kb, ka != kb)
    if a == b:
        assert hash(a) == hash(b)


@FAST
@given(st.lists(st.integers(0, 20), min_size=1, max_size=3), st.sampled_from(TAGS),
       st.integers(1, 3))
def test_trailing_zeros_do_not_change_a_version(parts, tag, zeros):
    release = ".".join(map(str, parts))
    short = parse_version(release + tag)
    long = parse_version(release + ".0" * zeros + tag)
    assert short == long
    assert sort_key(short) == sort_key(long)
    assert short.text != long.text  # the spelling is kept


@FAST
@given(st.lists(versions, min_size=2, max_size=8))
def test_sorting_is_deterministic(items):
    assert sorted(items, key=sort_key) == sorted(reversed(items), key=sort_key)
    assert all(isinstance(v, Version) for v in items)


def test_glued_or_is_not_a_version():
    """Found by the round trip: '==OR' parsed, printed as '== OR', then failed."""
    with pytest.raises(ParseError, match="expected a version after '=='"):
        parse_requirement("postgresql ==OR")
    with pytest.raises(ParseError, match="expected a version after '!='"):
        parse_requirement("postgresql >= 9 !=or")
    req = parse_requirement("ubuntu !=OR.*")  # a prefix spelled like the word is fine
    assert parse_requirement(str(req)).alternatives == req.alternatives
