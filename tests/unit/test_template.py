"""Environment templates: WithProperties syntax plus cap(OPTION)."""

from __future__ import annotations

import pytest

from anybox_buildbot.errors import Location, ParseError
from anybox_buildbot.template import Ref, parse_template

CAPS = {"port": "5434", "bin": "/usr/lib/postgresql/13/bin", "empty": ""}
PROPS = {"buildername": "app-pg13", "workername": "w1", "zero": 0, "blank": ""}


def render(text: str) -> str:
    return parse_template(text).render(CAPS.get, PROPS.get)


# template -> rendered with CAPS and PROPS
RENDER = [
    ("plain text", "plain text"),
    ("", ""),
    ("%%", "%"),
    ("100%%", "100%"),
    ("%%(cap(port))s", "%(cap(port))s"),         # escaped: stays literal
    ("%(cap(port))s", "5434"),
    ("%(cap(port):-5432)s", "5434"),
    ("%(cap(missing):-5432)s", "5432"),
    ("%(cap(empty):-5432)s", "5432"),             # empty counts as unset
    ("%(cap(missing))s", ""),
    ("%(cap(missing):-)s", ""),
    ("%(cap(port):~5432)s", "5434"),
    ("%(cap(missing):~5432)s", "5432"),
    ("%(cap(port):+-p)s", "-p"),
    ("%(cap(port):+set)s", "set"),
    ("%(cap(missing):+set)s", ""),
    ("%(cap(empty):+set)s", ""),
    ("-p %(cap(port))s -h %(cap(host):-localhost)s", "-p 5434 -h localhost"),
    ("%(cap(bin))s:/usr/bin", "/usr/lib/postgresql/13/bin:/usr/bin"),
    ("%(buildername)s", "app-pg13"),
    ("db_%(buildername)s_%(workername)s", "db_app-pg13_w1"),
    ("%(nope:-fallback)s", "fallback"),
    ("%(nope)s", ""),
    ("%(zero)s", "0"),                            # 0 is a value, not missing
    ("%(blank:-x)s", "x"),
    ("%(buildername:+yes)s", "yes"),
    ("%(cap(port):-a:b/c)s", "5434"),
    ("%(cap(missing):-a:b/c)s", "a:b/c"),
    ("%(cap(missing):-%%)s", "%%"),               # args are literal
    ("%(a.b-c_d:-z)s", "z"),
]


@pytest.mark.parametrize(("text", "expected"), RENDER)
def test_render(text, expected):
    assert render(text) == expected


@pytest.mark.parametrize(("text", "parts"), [
    ("%(cap(port):-5432)s", (Ref("port", True, "-", "5432"),)),
    ("%(cap(port))s", (Ref("port", True, None, ""),)),
    ("%(buildername)s", (Ref("buildername", False, None, ""),)),
    ("x%(cap(bin))s:y", ("x", Ref("bin", True, None, ""), ":y")),
    ("a%%b", ("a%b",)),
    ("%%%(p:+on)s", ("%", Ref("p", False, "+", "on"))),
    ("%(a)s%(b)s", (Ref("a", False, None, ""), Ref("b", False, None, ""))),
    ("", ()),
])
def test_parts(text, parts):
    template = parse_template(text)
    assert template.parts == parts
    assert template.text == text


def test_cap_options_lists_capability_references_only():
    template = parse_template("%(cap(bin))s:%(prop)s:%(cap(lib):-)s")
    assert template.cap_options == ("bin", "lib")


def test_render_asks_the_right_lookup():
    asked = []
    template = parse_template("%(cap(port))s %(port)s")
    out = template.render(lambda k: asked.append(("cap", k)) or "C",
                          lambda k: asked.append(("prop", k)) or "P")
    assert out == "C P"
    assert asked == [("cap", "port"), ("prop", "port")]


# (text, column of the bad '%')
MALFORMED = [
    ("%(cap(port)", 1),
    ("%(cap(port)s", 1),
    ("-p %(cap(port)", 4),
    ("%(x)", 1),
    ("%(x)d", 1),
    ("%(x)r", 1),
    ("100%", 4),
    ("%", 1),
    ("%s", 1),
    ("50% off", 3),
    ("%()s", 1),
    ("%(cap()s", 1),
    ("%(cap(1port))s", 1),
    ("%(1prop)s", 1),
    ("%(cap(port):=1)s", 1),
    ("%(cap(port):?x)s", 1),
    ("%(x:-a)b)s", 1),
    ("%(secret:pw)s", 1),
    ("ok %(a)s then %(b", 15),
    ("%(a b)s", 1),
]


@pytest.mark.parametrize(("text", "column"), MALFORMED)
def test_malformed(text, column):
    with pytest.raises(ParseError) as info:
        parse_template(text)
    exc = info.value
    assert exc.problem == "malformed %(...)s reference"
    assert exc.column == column
    assert exc.text == text
    assert "%(cap(port):-5432)s" in exc.hint
    rendered = exc.render(Location("MANIFEST.cfg", 9), "env.PGPORT")
    assert rendered.startswith(f"MANIFEST.cfg:9: env.PGPORT: malformed %(...)s reference "
                               f"at column {column}: ")


# Buildbot's Interpolate writes %(prop:NAME)s: the form users write
# (issue 17: env.TEST_DSN = postgresql:///%(prop:testing_db)s).
@pytest.mark.parametrize(("text", "expected"), [
    ("postgresql:///%(prop:buildername)s", "postgresql:///app-pg13"),
    ("%(prop:nope:-fallback)s", "fallback"),
    ("%(prop:buildername:+yes)s", "yes"),
    ("%(prop:zero)s", "0"),
])
def test_prop_prefix_names_a_property(text, expected):
    assert render(text) == expected
    (ref,) = (p for p in parse_template(text).parts if isinstance(p, Ref))
    assert not ref.is_cap and not ref.key.startswith("prop:")


def test_properties_and_literal_templates():
    assert parse_template("a %(prop:x)s %(cap(port))s %(y:-z)s").properties == ("x", "y")
    assert parse_template("100%% plain").is_literal
    assert not parse_template("%(x)s").is_literal


@pytest.mark.parametrize("text", ["%(prop:)s", "%(prop:cap(port))s", "%(prop:prop:x)s"])
def test_prop_prefix_needs_a_property_name(text):
    with pytest.raises(ParseError):
        parse_template(text)
