"""An error at a line several sections get (``inherit``, ``[DEFAULT]``) is
reported once, at its line, under the section that wrote it, naming the
sections that inherit it; errors at a section's own lines are unchanged."""

from __future__ import annotations

from pathlib import Path

from unit_helpers import GIT, write

from anybox_buildbot.buildoutspec import BuildoutSpec
from anybox_buildbot.errors import Errors
from anybox_buildbot.inherit import MAX_NAMED
from anybox_buildbot.manifest import load_manifests


def messages_of(tmp_path: Path, text: str, check=None) -> list[str]:
    errors = Errors()
    load_manifests([write(tmp_path, "MANIFEST.cfg", text)], errors, check=check)
    return errors.messages


def test_a_typo_in_a_parent_is_reported_once_naming_the_children(tmp_path: Path) -> None:
    messages = messages_of(tmp_path, f"""
        [base]
        {GIT}
        nightly = 0 25 * * *
        [a]
        inherit = base
        [b]
        inherit = base
        [c]
        inherit = b
        """)
    (message,) = messages
    assert message.startswith(f"{tmp_path}/MANIFEST.cfg:3: buildout [base] nightly, "
                              "inherited by [a], [b], [c]: invalid hour field '25'")


def test_a_typo_in_default_is_reported_once_naming_the_sections(tmp_path: Path) -> None:
    messages = messages_of(tmp_path, f"""
        [DEFAULT]
        tree-stable-timer = 10m
        [a]
        {GIT}
        [b]
        {GIT}
        """)
    assert messages == [f"{tmp_path}/MANIFEST.cfg:2: [DEFAULT] tree-stable-timer, used by "
                        "[a], [b]: expected a whole number of seconds: '10m' "
                        "(e.g. tree-stable-timer = 600)"]


def test_a_mistake_only_in_the_parent_names_no_one(tmp_path: Path) -> None:
    """A child that overrides the bad option does not inherit the mistake."""
    messages = messages_of(tmp_path, f"""
        [base]
        {GIT}
        tree-stable-timer = 10m
        [a]
        inherit = base
        tree-stable-timer = 60
        """)
    assert messages == [f"{tmp_path}/MANIFEST.cfg:3: buildout [base] tree-stable-timer: "
                        "expected a whole number of seconds: '10m' "
                        "(e.g. tree-stable-timer = 600)"]


def test_the_childrens_own_mistakes_stay_theirs(tmp_path: Path) -> None:
    messages = messages_of(tmp_path, f"""
        [base]
        {GIT}
        [a]
        inherit = base
        tree-stable-timer = 10m
        [b]
        inherit = base
        tree-stable-timer = 10m
        """)
    assert [m.split(": ")[0:2] for m in messages] == [
        [f"{tmp_path}/MANIFEST.cfg:5", "buildout [a] tree-stable-timer"],
        [f"{tmp_path}/MANIFEST.cfg:8", "buildout [b] tree-stable-timer"]]


def test_many_inheriting_sections_are_counted_past_the_named_ones(tmp_path: Path) -> None:
    children = "".join(f"[c{i:02}]\ninherit = base\n" for i in range(MAX_NAMED + 5))
    (message,) = messages_of(tmp_path, f"[base]\n{GIT}\nauto-watch = maybe\n{children}")
    assert ", inherited by [c00], [c01]," in message
    assert f"[c{MAX_NAMED - 1:02}] and 5 more: expected true or false" in message


def test_a_check_of_the_caller_is_grouped_too_and_runs_on_every_section(
        tmp_path: Path) -> None:
    """The configurator's step-set check goes through the same collector:
    once for an inherited line, and also on a section with another error."""
    seen = []

    def check(spec: BuildoutSpec, errors: Errors) -> None:
        seen.append(spec.name)
        location = spec.step_set_locations[("post-buildout-steps", "tset")]
        errors.add(location, "unknown step set 'tset'", "tset",
                   subject=f"buildout [{spec.name}] post-buildout-steps")

    messages = messages_of(tmp_path, f"""
        [base]
        {GIT}
        post-buildout-steps = tset
        [a]
        inherit = base
        tree-stable-timer = 10m
        """, check)
    assert seen == ["base", "a"]
    assert [m.split(": ")[0:2] for m in messages] == [
        [f"{tmp_path}/MANIFEST.cfg:6", "buildout [a] tree-stable-timer"],
        [f"{tmp_path}/MANIFEST.cfg:3", "buildout [base] post-buildout-steps, inherited by [a]"]]


def test_no_inheritance_no_grouping_cost(tmp_path: Path) -> None:
    """Without [DEFAULT] nor inherit, sections report straight into the
    caller's collector, as before."""
    messages = messages_of(tmp_path, f"[a]\n{GIT}\nnightly = x\n[b]\n{GIT}\nnightly = x\n")
    assert [m.split(": ")[0] for m in messages] == [f"{tmp_path}/MANIFEST.cfg:3",
                                                    f"{tmp_path}/MANIFEST.cfg:6"]
