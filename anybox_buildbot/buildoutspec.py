"""The frozen values a manifest section becomes: ``BuildoutSpec`` and its
``Source`` and ``Watch``, with the defaults and the source and watch forms.

Apart from the parser (``manifestoptions``, ``manifest``) because every
later layer (plan, factories, pollers, views) reads these values and none
of them needs to know how they were read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .constraint import Requirement
from .cron import Cron
from .errors import Diagnostic, Location
from .notify import NotifyTarget
from .rules import MAX_ARGUMENTS_LENGTH
from .stepoptions import StepOptions
from .template import Template

DEFAULT_BUILDOUT_VERSION = "6.0.1"
DEFAULT_TREE_STABLE_TIMER = 600
DEFAULT_POST_BUILDOUT_STEPS = ("test",)
DEFAULT_TEST_COMMAND = ("bin/test",)
MAX_COMMAND_LENGTH = MAX_ARGUMENTS_LENGTH

# kind -> positional argument names; the form is shown in error messages.
SOURCE_KINDS: dict[str, tuple[str, ...]] = {
    "standalone": ("PATH",),
    "git": ("URL", "BRANCH", "CFG"),
    "gittag": ("URL", "CFG"),
    "hg": ("URL", "BRANCH", "CFG"),
    "hgtag": ("URL", "CFG"),
    "bzr": ("URL", "CFG"),
    "archive": ("URL", "CFG"),
}
SOURCE_KEYWORDS: dict[str, tuple[str, ...]] = {"git": ("subdir",), "gittag": ("subdir",)}
WATCH_KINDS: dict[str, tuple[str, ...]] = {
    "git": ("URL", "BRANCH"), "hg": ("URL", "BRANCH"), "bzr": ("URL",),
}


@dataclass(frozen=True, slots=True)
class Source:
    """Where the buildout configuration comes from (``buildout = KIND ...``)."""

    kind: str
    location: Location
    path: Path | None = None      # standalone: absolute path on the master
    root: Path | None = None      # standalone: the folder ``path`` must stay in
    url: str | None = None
    branch: str | None = None
    cfg: str = "buildout.cfg"
    subdir: str | None = None

    @property
    def is_tag(self) -> bool:
        return self.kind in ("gittag", "hgtag")

    @property
    def vcs(self) -> str | None:
        return {"git": "git", "gittag": "git", "hg": "hg", "hgtag": "hg",
                "bzr": "bzr"}.get(self.kind)


@dataclass(frozen=True, slots=True)
class Watch:
    vcs: str
    url: str
    branch: str | None
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class BuildoutSpec:
    """One buildout to build, every option validated and typed."""

    name: str
    location: Location
    source: Source
    build_requires: tuple[Requirement, ...] = ()
    build_for: tuple[Requirement, ...] = ()
    category: tuple[str, ...] = ()
    watch: tuple[Watch, ...] | None = None    # None: no watch option at all
    auto_watch: bool = False
    # the buildout's own git/hg repository is watched next to ``watch`` lines
    watch_buildout: bool = True
    tree_stable_timer: int | None = None       # None: the master's default
    nightly: Cron | None = None               # parsed: the scheduler reads no text
    buildout_version: str = DEFAULT_BUILDOUT_VERSION
    # (section, option, value): the value is rendered when bin/buildout
    # starts (%(prop:testing_db)s); its ``text`` is the line as written
    buildout_options: tuple[tuple[str, str, Template], ...] = ()
    # bin/buildout updates the checkouts it makes itself (mr.developer's
    # always-checkout); default: on with auto-watch
    update_checkouts: bool = False
    # pip requirements installed into the build's venv by bootstrap
    bootstrap_packages: tuple[str, ...] = ()
    buildout_part: str | None = None
    post_dl_steps: tuple[str, ...] = ()
    db_steps: tuple[str, ...] = ()
    post_buildout_steps: tuple[str, ...] = DEFAULT_POST_BUILDOUT_STEPS
    test_command: tuple[str, ...] = DEFAULT_TEST_COMMAND
    env: tuple[tuple[str, Template], ...] = ()
    git_shallow: bool = False
    notify: tuple[NotifyTarget, ...] = ()     # notify.py: one destination per line
    # step set -> its parsed NAME.OPTION values (stepoptions.py), one entry
    # per step set used when loaded with the step sets' schemas
    step_options: Mapping[str, StepOptions] = field(default_factory=dict, hash=False)
    step_option_locations: dict[str, Location] = field(default_factory=dict, hash=False,
                                                       compare=False, repr=False)
    # (option, step set name) -> the line naming it, for errors about that step set
    step_set_locations: dict[tuple[str, str], Location] = field(
        default_factory=dict, hash=False, compare=False, repr=False)
    # old spellings of anybox.buildbot.odoo read as ours, and other notes
    # for the warnings channel (deprecated.py)
    deprecations: tuple[Diagnostic, ...] = field(default=(), hash=False, compare=False,
                                                  repr=False)
    # (build-for or build-requires, capability name) -> its first line there,
    # column of the name: where warnings about a requirement point
    # (planwarnings.plan_warnings)
    requirement_locations: dict[tuple[str, str], Location] = field(
        default_factory=dict, hash=False, compare=False, repr=False)

    @property
    def step_sets(self) -> tuple[str, ...]:
        return self.post_dl_steps + self.db_steps + self.post_buildout_steps

    @property
    def capability_names(self) -> tuple[str, ...]:
        """Capabilities the build asks for, in first-mention order."""
        names: dict[str, None] = {}
        for req in self.build_for + self.build_requires:
            names.setdefault(req.name, None)
        return tuple(names)

