"""Versions: numeric order, pre-release tags, kept spelling, odd shapes."""

from __future__ import annotations

import itertools
import random

import pytest

from anybox_buildbot.version import parse_version, sort_key

CHAIN = ["9.2-devel", "9.2a1", "9.2b1", "9.2rc1", "9.2", "9.2.1", "9.10"]


@pytest.mark.parametrize(("low", "high"), list(itertools.combinations(CHAIN, 2)))
def test_spec_chain_is_strictly_ordered(low, high):
    a, b = parse_version(low), parse_version(high)
    assert a < b
    assert not b < a
    assert a != b
    # all six comparisons, not only the two a dataclass gets for free
    assert a <= b and b > a and b >= a
    assert not (a >= b or b <= a or a > b)


@pytest.mark.parametrize(("low", "high"), [
    ("9.2", "9.10"),            # numeric, not lexicographic
    ("9.9", "10.0"),
    ("1", "1.0.1"),
    ("9.2dev", "9.2alpha"),     # dev ranks with devel
    ("9.2devel", "9.2a1"),
    ("9.2a1", "9.2a2"),
    ("9.2a9", "9.2a10"),        # tag number is numeric
    ("9.2b2", "9.2rc1"),
    ("9.2beta1", "9.2c1"),      # c is an alias of rc
    ("9.2rc1", "9.2rc2"),
    ("9.2rc9", "9.2"),
    ("9.1", "9.2-devel"),       # a pre-release of 9.2 is above 9.1
    ("9.1.99", "9.2a1"),
    ("9.2", "9.2.0.1"),
    ("3.9", "3.11"),
    ("0", "0.0.1"),
])
def test_ordering(low, high):
    assert parse_version(low) < parse_version(high)
    assert not parse_version(high) < parse_version(low)


@pytest.mark.parametrize(("one", "other"), [
    ("9.2", "9.2.0"),
    ("9.2", "9.2.0.0"),
    ("13", "13.0"),
    ("0", "0.0"),
    ("9.2-devel", "9.2devel"),
    ("9.2dev", "9.2.devel"),
    ("9.2a1", "9.2alpha1"),
    ("9.2b1", "9.2-beta1"),
    ("9.2rc1", "9.2c1"),
    ("9.2RC1", "9.2rc1"),
    ("9.2rc", "9.2rc0"),
    ("9.2.0rc1", "9.2rc1"),
])
def test_equal_spellings(one, other):
    assert parse_version(one) <= parse_version(other) >= parse_version(one)
    a, b = parse_version(one), parse_version(other)
    assert a == b
    assert a.same_as(b)
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert not a < b and not b < a
    # ...but each keeps its own spelling
    assert a.text == one and b.text == other
    assert str(a) == one


@pytest.mark.parametrize(("one", "other"), [
    ("9.2", "9.20"),
    ("9.2", "9.2.1"),
    ("9.2", "9.2rc1"),
    ("9.2a1", "9.2b1"),
    ("9.2a1", "9.2a2"),
    ("trusty", "xenial"),
    ("trusty", "Trusty"),     # odd shapes compare as exact strings
    ("trusty", "9.2"),
])
def test_unequal(one, other):
    assert parse_version(one) != parse_version(other)
    assert not parse_version(one).same_as(parse_version(other))


@pytest.mark.parametrize(("text", "release", "prerelease"), [
    ("9.2", (9, 2), False),
    ("9.2.0", (9, 2), False),
    ("13", (13,), False),
    ("9.2-devel", (9, 2), True),
    ("3.11rc1", (3, 11), True),
    ("3.11b2", (3, 11), True),
    ("10.0.0", (10,), False),
])
def test_orderable_shapes(text, release, prerelease):
    version = parse_version(text)
    assert version.is_orderable
    assert version.release == release
    assert version.is_prerelease is prerelease
    assert version.text == text


@pytest.mark.parametrize("text", [
    "trusty", "9.2-1", "v9.2", "9.2.x", "9.2+local", "9.2 final", "", "latest", "9..2",
    "9.2rc1a", "1.0~rc1",
])
def test_unorderable_shapes(text):
    version = parse_version(text)
    assert not version.is_orderable
    assert version.key is None
    assert version.release == ()
    assert not version.is_prerelease
    assert version.text == text
    assert version == parse_version(text)     # equal to itself
    assert version.same_as(parse_version(text))


def test_trusty_is_equal_to_itself_and_hashable():
    trusty = parse_version("trusty")
    assert trusty == parse_version("trusty")
    assert {trusty, parse_version("trusty"), parse_version("xenial")} == {
        parse_version("xenial"), parse_version("trusty")}


def test_sort_key_is_total_and_puts_unorderable_first():
    texts = ["9.10", "trusty", "9.2", "9.2rc1", "bionic", "9.2-devel"]
    ordered = sorted((parse_version(t) for t in texts), key=sort_key)
    assert [v.text for v in ordered] == ["bionic", "trusty", "9.2-devel", "9.2rc1", "9.2",
                                         "9.10"]


def test_sorting_a_shuffled_chain_restores_it():
    shuffled = CHAIN[:]
    random.Random(4).shuffle(shuffled)
    assert shuffled != CHAIN
    assert [v.text for v in sorted(parse_version(t) for t in shuffled)] == CHAIN


def test_comparison_with_other_types_is_not_equal():
    assert parse_version("9.2") != "9.2"
    assert parse_version("9.2") != 9.2
