"""MANIFEST.cfg files -> validated ``BuildoutSpec`` values.

Each section (but ``[DEFAULT]``) is a buildout to build. ``inherit``
chains are resolved on the raw options first, so every later check sees
the options the section really ends up with and reports them at the line
where they were written (possibly in the parent section).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .confine import (
    MAX_BUILDOUT_NAME,
    SAFE_NAME_RULE,
    name_problem,
    relative_path_problem,
    resolves_inside,
)
from .constraint import Requirement, parse_requirement
from .cron import Cron, parse_cron
from .deprecated import manifest_options
from .errors import Diagnostic, Errors, Location, ParseError, did_you_mean
from .inherit import SharedLines, resolve_inherit, shared_line_owners
from .inifile import IniFile, IniOption, IniSection, read_ini
from .notify import NotifyTarget, parse_notify_option
from .rules import (
    MAX_ARGUMENTS_LENGTH,
    PART_NAME_RULE,
    RuleError,
    is_part_name,
    parse_boolean,
    pip_requirement,
    split_arguments,
    split_list,
    whole_number,
)
from .steploading import StepSetInfo, load_step_options, unchecked_options
from .stepoptions import StepOptions
from .template import Template, parse_template
from .vcsref import REF_FORMS, URL_FORMS, ref_problem, url_problem

DEFAULT_BUILDOUT_VERSION = "6.0.1"
DEFAULT_TREE_STABLE_TIMER = 600
DEFAULT_POST_BUILDOUT_STEPS = ("test",)
DEFAULT_TEST_COMMAND = ("bin/test",)
MAX_COMMAND_LENGTH = MAX_ARGUMENTS_LENGTH

KNOWN_OPTIONS = frozenset({
    "buildout", "inherit", "build-requires", "build-for", "build-category", "watch",
    "auto-watch", "tree-stable-timer", "nightly", "buildout-version", "buildout-options",
    "buildout-part", "post-dl-steps", "db-steps", "post-buildout-steps", "test-command",
    "git-shallow", "notify", "watch-buildout", "update-checkouts", "bootstrap-packages",
})

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
#: The forms of ``buildout =`` spelled out for hints.
_SOURCE_FORMS = "; ".join(f"{k} {' '.join(v)}" for k, v in SOURCE_KINDS.items())
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STEPSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_BUILDOUT_OPTION = re.compile(r"(?P<section>[^:=\s]+):(?P<option>[^:=\s]+)=(?P<value>.*)")
_PIP_VERSION = re.compile(r"[0-9][0-9A-Za-z.+!-]*")


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
    # (dispatch.plan_warnings)
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


class _SectionReader:
    """Typed access to one section's merged options, reporting into ``errors``."""

    def __init__(self, name: str, options: dict[str, IniOption], errors: Errors,
                 location: Location) -> None:
        self.name = name
        self.location = location
        self.options = options
        self.errors = errors
        self.subject = f"buildout [{name}]"
        self.step_set_locations: dict[tuple[str, str], Location] = {}
        self.requirement_locations: dict[tuple[str, str], Location] = {}
        self.named_step_sets: list[tuple[str, str, Location]] = []  # valid names only

    def error(self, loc: Location, option: str, problem: str, text: str | None = None,
              hint: str | None = None) -> None:
        self.errors.add(loc, problem, text, hint, f"{self.subject} {option}")

    def single(self, option: str) -> tuple[str, Location] | None:
        opt = self.options.get(option)
        if opt is None:
            return None
        if len(opt.lines) > 1:
            self.error(opt.lines[1][1], option, "expected a single line", opt.lines[1][0],
                       hint="this option takes one value")
            return None
        return (opt.lines[0] if opt.lines else ("", opt.location))

    def boolean(self, option: str, default: bool) -> bool:
        got = self.single(option)
        if got is None:
            return default
        text, loc = got
        parsed = parse_boolean(text)
        if parsed is not None:
            return parsed
        self.error(loc, option, "expected true or false", text)
        return default

    def integer(self, option: str, default: int, what: str = "a whole number") -> int:
        got = self.single(option)
        if got is None:
            return default
        text, loc = got
        try:
            return whole_number(text, what=what)
        except RuleError as exc:
            self.error(loc, option, exc.problem, text, hint=f"e.g. {option} = {default}")
            return default

    def requirements(self, option: str) -> tuple[Requirement, ...]:
        opt = self.options.get(option)
        if opt is None:
            return ()
        result = []
        for text, loc in opt.lines:
            try:
                req = parse_requirement(text)
            except ParseError as exc:
                self.errors.add_parse_error(exc, loc, f"{self.subject} {option}")
                continue
            result.append(req)
            self.requirement_locations.setdefault((option, req.name), loc.at_column(1))
        return tuple(result)

    def words(self, option: str) -> tuple[str, ...] | None:
        opt = self.options.get(option)
        if opt is None:
            return None
        return tuple(w for text, _ in opt.lines for w in split_list(text))

    def step_names(self, option: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        names = self.words(option)
        if names is None:
            # the default step sets are used as if named on the section's line
            self.named_step_sets.extend((option, name, self.location) for name in default)
            return default
        for text, loc in self.options[option].lines:
            for name in split_list(text):
                self.step_set_locations.setdefault((option, name), loc)
                if not _STEPSET_NAME.fullmatch(name):
                    self.error(loc, option, "invalid step set name", name)
                else:
                    self.named_step_sets.append((option, name, loc))
        return names


def _standalone_file(folder: Path, text: str,
                     cache: dict[tuple[Path, str], Path | str]) -> Path | str:
    """The resolved standalone cfg path, or the problem to report.

    The file must resolve, symlinks followed, inside the folder of the
    manifest that names it: a manifest must not ship any file the master
    can read. "Outside" is reported before "missing", so the message tells
    nothing about the master's other files.

    Many sections share one file: the file system is asked once per path
    and per ``load_manifests`` call (``cache`` lives that long).
    """
    key = (folder, text)
    if key not in cache:
        path = folder / text  # an absolute ``text`` replaces ``folder``
        if not resolves_inside(path, folder):
            cache[key] = "standalone buildout file outside the manifest's folder"
        elif not path.is_file():
            cache[key] = "standalone buildout file not found"
        else:
            cache[key] = path.resolve()
    return cache[key]


def _parse_source(reader: _SectionReader, manifest_dir: Path,
                  files: dict[tuple[Path, str], Path | str]) -> Source | None:
    opt = reader.options.get("buildout")
    if opt is None:
        reader.errors.add(reader.location, "missing 'buildout' option", None,
                          "add e.g. 'buildout = standalone buildouts/app.cfg' or "
                          "'buildout = git URL BRANCH buildout.cfg'", reader.subject)
        return None
    got = reader.single("buildout")
    if got is None:
        return None
    text, loc = got
    words = text.split()
    forms = _SOURCE_FORMS
    if not words:
        reader.error(loc, "buildout", "empty value", text, hint="forms: " + forms)
        return None
    if words[0] not in SOURCE_KINDS:
        reader.error(loc, "buildout", f"unknown buildout kind {words[0]!r}", text,
                     hint=did_you_mean(words[0], SOURCE_KINDS) + "; forms: " + forms)
        return None
    kind, args = words[0], words[1:]
    expected = SOURCE_KINDS[kind]
    allowed_kw = SOURCE_KEYWORDS.get(kind, ())
    keywords = {}
    while args and "=" in args[-1] and args[-1].split("=", 1)[0] in allowed_kw:
        key, value = args.pop().split("=", 1)
        keywords[key] = value
    form = f"buildout = {kind} {' '.join(expected)}" + "".join(
        f" [{k}=DIR]" for k in allowed_kw)
    if len(args) != len(expected):
        problem = ("missing " + ", ".join(expected[len(args):]) if len(args) < len(expected)
                   else "unexpected extra words " + repr(" ".join(args[len(expected):])))
        reader.error(loc, "buildout", problem, text, hint=f"expected: {form}")
        return None
    values = dict(zip(expected, args, strict=True))
    tool = kind.removesuffix("tag")  # git, hg, bzr or archive
    if kind != "standalone" and not _vcs_values_ok(reader, loc, "buildout", tool,
                                                   values["URL"], values.get("BRANCH")):
        return None
    if kind == "standalone":
        path = _standalone_file(manifest_dir, values["PATH"], files)
        if isinstance(path, str):
            hint = (f"must resolve inside {manifest_dir} (symlinks are followed); copy the "
                    "file there" if "outside" in path else
                    f"paths are relative to the manifest's folder, here {manifest_dir}")
            reader.error(loc, "buildout", path, values["PATH"], hint=hint)
            return None
        return Source(kind, loc, path=path, cfg="buildout.cfg", root=manifest_dir)
    return Source(kind, loc, url=values["URL"], branch=values.get("BRANCH"),
                  cfg=values["CFG"], subdir=keywords.get("subdir"))


def _checkout_paths_in_place(reader: _SectionReader, source: Source) -> bool:
    """CFG and ``subdir=`` stay inside the checkout (see ``confine``).

    They become step directories and command arguments on the worker.
    """
    ok = True
    checks = [("configuration file path", source.cfg, True,
               "e.g. buildout.cfg or conf/prod.cfg")]
    if source.subdir is not None:
        checks.append(("subdir", source.subdir, False, "e.g. subdir=odoo"))
    for what, text, is_file, example in checks:
        problem = relative_path_problem(text, is_file)
        if problem is not None:
            reader.error(source.location, "buildout", f"{what} {problem}", text,
                         hint="it must stay inside the checkout: relative to the checkout, "
                         f"without '..', no part starting with '-'; {example}")
            ok = False
    return ok


def _parse_watch(reader: _SectionReader) -> tuple[Watch, ...] | None:
    opt = reader.options.get("watch")
    if opt is None:
        return None
    watches = []
    for text, loc in opt.lines:
        words = text.split()
        forms = "; ".join(f"{k} {' '.join(v)}" for k, v in WATCH_KINDS.items())
        if words[0] not in WATCH_KINDS:
            reader.error(loc, "watch", f"unknown version control system {words[0]!r}", text,
                         hint="forms: " + forms)
            continue
        expected = WATCH_KINDS[words[0]]
        if len(words) - 1 != len(expected):
            reader.error(loc, "watch", f"expected {len(expected)} word(s) after "
                         f"{words[0]!r}, got {len(words) - 1}", text,
                         hint=f"form: {words[0]} {' '.join(expected)}")
            continue
        branch = words[2] if len(words) > 2 else None
        if _vcs_values_ok(reader, loc, "watch", words[0], words[1], branch):
            watches.append(Watch(words[0], words[1], branch, loc))
    return tuple(dict.fromkeys(watches))


def _vcs_values_ok(reader: _SectionReader, loc: Location, option: str, tool: str, url: str,
                   branch: str | None) -> bool:
    """Report a URL or branch its tool must not be given (``vcsref``)."""
    ok = True
    problem = url_problem(tool, url)
    if problem:
        reader.error(loc, option, f"refused {tool} URL: {problem}", url,
                     hint=URL_FORMS[tool])
        ok = False
    problem = ref_problem(tool, branch) if branch is not None else None
    if problem:
        reader.error(loc, option, f"refused {tool} branch: {problem}", branch,
                     hint=REF_FORMS[tool])
        ok = False
    return ok


def _parse_buildout_options(reader: _SectionReader) -> tuple[tuple[str, str, str], ...]:
    opt = reader.options.get("buildout-options")
    if opt is None:
        return ()
    result = []
    for text, loc in opt.lines:
        match = _BUILDOUT_OPTION.fullmatch(text)
        if not match:
            reader.error(loc, "buildout-options", "expected section:option=value", text,
                         hint="e.g. buildout:newest=false")
            continue
        # The words land in bin/buildout's argv: '-c/etc/x.cfg:a=b' would be
        # read as its option -c (a config from anywhere), '-D:a=b' as -D.
        bad = [(what, word) for what, word in (("section", match["section"]),
                                               ("option", match["option"]))
               if not is_part_name(word)]
        if bad:
            what, word = bad[0]
            reader.error(loc, "buildout-options", f"invalid buildout {what} name {word!r}",
                         text, hint=f"section and option names are {PART_NAME_RULE}, "
                         "e.g. buildout:newest=false, versions:zc.buildout=3.0.1")
            continue
        value = match["value"].strip()
        try:
            template = parse_template(value)
        except ParseError as exc:
            if exc.column is not None:   # a column of the line, not of the value
                exc.column += match.start("value") + len(match["value"]) \
                    - len(match["value"].lstrip())
            exc.text = text
            reader.errors.add_parse_error(exc, loc, f"{reader.subject} buildout-options")
            continue
        if template.cap_options:
            reader.error(loc, "buildout-options", f"%(cap({template.cap_options[0]}))s names "
                         "no capability here", text, hint="use the property of the chosen "
                         f"instance, e.g. %(prop:cap_postgresql_{template.cap_options[0]})s")
            continue
        result.append((match["section"], match["option"], template))
    return tuple(result)


def _parse_bootstrap_packages(reader: _SectionReader) -> tuple[str, ...]:
    """``bootstrap-packages``: pip requirements, separated by white space."""
    opt = reader.options.get("bootstrap-packages")
    if opt is None:
        return ()
    found = []
    for text, loc in opt.lines:
        for word in text.split():
            try:
                found.append(pip_requirement(word))
            except RuleError as exc:
                reader.error(loc, "bootstrap-packages", exc.problem, word, hint=exc.hint)
    return tuple(dict.fromkeys(found))


def _parse_buildout_part(reader: _SectionReader) -> str | None:
    """``buildout-part``: a part name, which becomes ``bin/<part>``."""
    got = reader.single("buildout-part")
    if got is None:
        return None
    part, loc = got
    if not is_part_name(part):
        reader.error(loc, "buildout-part", "invalid buildout part name", part,
                     hint=f"the name of a [section] of the buildout, {PART_NAME_RULE}, "
                     "e.g. buildout-part = odoo")
        return None
    return part


def _on_its_line(exc: ParseError, opt: IniOption) -> tuple[ParseError, Location]:
    """Point an error in a multi-line value at its own line and column."""
    if exc.column is None or len(opt.lines) < 2:
        return exc, opt.first_location
    before = opt.value[: exc.column - 1]
    text, loc = opt.lines[before.count("\n")]
    exc.text = text
    exc.column = len(before) - before.rfind("\n")
    return exc, loc


def _parse_test_command(reader: _SectionReader) -> tuple[str, ...]:
    got = reader.single("test-command")
    if got is None:
        return DEFAULT_TEST_COMMAND
    try:
        command = split_arguments(got[0])
    except RuleError as exc:
        reader.error(got[1], "test-command", exc.problem, got[0], hint=exc.hint)
        return DEFAULT_TEST_COMMAND
    if not command or not command[0]:  # '""' splits to ['']
        reader.error(got[1], "test-command", "empty command", got[0],
                     hint="e.g. test-command = bin/test -v")
        return DEFAULT_TEST_COMMAND
    return command


def _empty_watch_note(name: str, options: dict[str, IniOption], source: Source | None
                      ) -> tuple[Diagnostic, ...]:
    """``watch =`` (empty) on a git/hg/bzr buildout used to stop all
    watching; now the buildout's own repository stays watched."""
    opt = options.get("watch")
    if opt is None or opt.lines or source is None or source.vcs is None or source.is_tag \
            or "watch-buildout" in options:
        return ()
    return (Diagnostic(opt.location, "an empty watch no longer stops watching the "
                       "buildout's own repository", "watch =",
                       "add watch-buildout = false to stop it", f"buildout [{name}] watch",
                       "deprecation"),)


#: A check of the loader's caller run on each section, ``(spec, errors)``.
SectionCheck = Callable[[BuildoutSpec, Errors], None]


def _parse_section(name: str, options: dict[str, IniOption], location: Location,
                   manifest_dir: Path, errors: Errors,
                   files: dict[tuple[Path, str], Path | str] | None = None,
                   check: SectionCheck | None = None,
                   step_sets: Mapping[str, StepSetInfo] | None = None
                   ) -> BuildoutSpec | None:
    options, deprecations = manifest_options(f"buildout [{name}]", options)
    reader = _SectionReader(name, options, errors, location)
    before = errors.count
    env: list[tuple[str, Template]] = []
    step_option_texts: dict[str, IniOption] = {}
    step_option_locations: dict[str, Location] = {}
    for key, opt in options.items():
        if key in KNOWN_OPTIONS:
            continue
        if key.startswith("env."):
            var = key[4:]
            if not _ENV_VAR.fullmatch(var):
                reader.error(opt.location, key, "invalid environment variable name", var)
                continue
            try:
                template = parse_template(opt.value)
            except ParseError as exc:
                errors.add_parse_error(*_on_its_line(exc, opt), f"{reader.subject} {key}")
                continue
            if template.cap_options:
                option = template.cap_options[0]
                reader.error(opt.first_location, key, f"%(cap({option}))s names no "
                             "capability here", opt.value,
                             hint=f"use the property of the chosen instance, e.g. "
                             f"%(cap_postgresql_{option})s")
                continue
            env.append((var, template))
            continue
        if "." in key:
            step_option_texts[key] = opt
            step_option_locations[key] = opt.location
            continue
        reader.error(opt.location, key, "unknown option", key,
                     hint=did_you_mean(key, KNOWN_OPTIONS | {"env.VAR", "STEPSET.OPTION"}))

    source = _parse_source(reader, manifest_dir, {} if files is None else files)
    if source is not None and source.kind != "standalone" \
            and not _checkout_paths_in_place(reader, source):
        source = None
    build_requires = reader.requirements("build-requires")
    build_for = reader.requirements("build-for")
    category = reader.words("build-category") or ()
    watch = _parse_watch(reader)
    auto_watch = reader.boolean("auto-watch", False)
    update_checkouts = reader.boolean("update-checkouts", auto_watch)
    bootstrap_packages = _parse_bootstrap_packages(reader)
    notify = (parse_notify_option(options["notify"].lines, errors, f"{reader.subject} notify")
              if "notify" in options else ())
    git_shallow = reader.boolean("git-shallow", False)
    watch_buildout = reader.boolean("watch-buildout", True)
    timer = (reader.integer("tree-stable-timer", DEFAULT_TREE_STABLE_TIMER,
                            "a whole number of seconds")
             if "tree-stable-timer" in options else None)
    nightly = None
    got = reader.single("nightly")
    if got is not None:
        try:
            nightly = parse_cron(got[0])
        except ParseError as exc:
            errors.add_parse_error(exc, got[1], f"{reader.subject} nightly")
    version = DEFAULT_BUILDOUT_VERSION
    got = reader.single("buildout-version")
    if got is not None:
        if _PIP_VERSION.fullmatch(got[0]):
            version = got[0]
        else:
            reader.error(got[1], "buildout-version", "invalid zc.buildout version", got[0],
                         hint=f"e.g. buildout-version = {DEFAULT_BUILDOUT_VERSION}")
    part = _parse_buildout_part(reader)
    test_command = _parse_test_command(reader)
    spec_kwargs = dict(
        post_dl_steps=reader.step_names("post-dl-steps"),
        db_steps=reader.step_names("db-steps"),
        post_buildout_steps=reader.step_names("post-buildout-steps",
                                              DEFAULT_POST_BUILDOUT_STEPS),
        buildout_options=_parse_buildout_options(reader),
    )
    spec_kwargs.update(
        # a broken 'buildout' line: a stand-in, so that ``check`` still runs
        name=name, location=location, source=source or Source("standalone", location),
        build_requires=build_requires,
        build_for=build_for, category=tuple(dict.fromkeys(category)), watch=watch,
        auto_watch=auto_watch, watch_buildout=watch_buildout, update_checkouts=update_checkouts,
        bootstrap_packages=bootstrap_packages, tree_stable_timer=timer, nightly=nightly,
        buildout_version=version, buildout_part=part,
        test_command=test_command, env=tuple(env), git_shallow=git_shallow, notify=notify,
        step_option_locations=step_option_locations,
        step_set_locations=reader.step_set_locations,
        requirement_locations=reader.requirement_locations,
        deprecations=deprecations + _empty_watch_note(name, options, source))
    spec = BuildoutSpec(**spec_kwargs)
    valid = errors.count == before and source is not None
    if check is not None:
        # Even after another error here: one pass. Its own errors leave the
        # spec valid.
        check(spec, errors)
    if step_sets is None:
        step_options = unchecked_options(step_option_texts)
    else:
        # Step-set names and values are checked whatever else is wrong here
        # (one pass); only the checks that look at the whole buildout wait
        # for the rest of the section to be valid.
        step_options = load_step_options(name, spec if valid else None,
                                         reader.named_step_sets, step_option_texts,
                                         step_sets, errors)
    if not valid or step_options is None:
        return None
    # Made again rather than ``dataclasses.replace``d: the constructor is
    # several times cheaper, 10 000 times per load at the largest fleets.
    return BuildoutSpec(**spec_kwargs, step_options=step_options)


def load_manifests(paths: Iterable[str | Path], errors: Errors,
                   display: dict[str, str] | None = None,
                   check: SectionCheck | None = None,
                   step_sets: Mapping[str, StepSetInfo] | None = None
                   ) -> tuple[BuildoutSpec, ...]:
    """Load every manifest; a buildout defined in two of them is an error.

    ``step_sets``: the known step sets by name, with their option schemas
    (``subfactories.load_registry().catalog``). With them, step-set names
    and ``NAME.OPTION`` values are checked and parsed here, on every
    section; without, they are kept as written (``StepOptions.checked`` is
    False) and a factory refuses them.

    ``check`` (the configurator's step-set checks) runs on every section,
    also one with other errors, and reports into the same collector: its
    errors at an inherited line are then reported once too.
    """
    files: dict[tuple[Path, str], Path | str] = {}
    sections: dict[str, tuple[IniFile, IniSection]] = {}
    bad_names: set[str] = set()
    folders: dict[str, Path] = {}  # file name as shown in messages -> its folder
    inis: list[IniFile] = []
    for path in paths:
        ini = read_ini(path, errors, (display or {}).get(str(path), str(path)))
        if ini is None:
            continue
        inis.append(ini)
        folders[ini.path] = Path(path).resolve().parent
        if "inherit" in ini.defaults:
            option = ini.defaults["inherit"]
            errors.add(option.location, "inherit cannot be set in [DEFAULT]", option.value,
                       hint="every section already gets [DEFAULT]; put 'inherit' in the "
                       "sections that need it", subject="[DEFAULT]")
        for section in ini.sections:
            if section.name in sections:
                first = sections[section.name][1].location
                errors.add(section.location, f"buildout {section.name!r} is already defined "
                           f"in {first}", f"[{section.name}]",
                           hint="section names must be unique over all manifests")
                continue
            sections[section.name] = (ini, section)
            if not _name_in_place(section, errors):
                bad_names.add(section.name)
    resolved = resolve_inherit(sections, errors)
    # An error at a line of [DEFAULT] or of an inherited section is reported
    # once, naming the sections that get it (inherit.py).
    shared = SharedLines(errors, shared_line_owners(inis, sections))
    specs = []
    for name, options in resolved.items():
        # A standalone path is relative to the manifest where the 'buildout'
        # line is written, which may be an inherited section's manifest.
        where = options["buildout"].location if "buildout" in options \
            else sections[name][1].location
        spec = _parse_section(name, options, sections[name][1].location,
                              folders[where.file], shared.for_section(name), files, check,
                              step_sets)
        if spec is not None and name not in bad_names:
            specs.append(spec)
    shared.flush()
    return tuple(specs)


def _name_in_place(section: IniSection, errors: Errors) -> bool:
    """A section name becomes a builder name and ``watch/<name>.json``."""
    problem = name_problem(section.name, MAX_BUILDOUT_NAME)
    if problem is None:
        return True
    errors.add(section.location, "invalid buildout name", f"[{section.name}]",
               hint=f"{problem}; section names become builder names and file names: "
               f"{SAFE_NAME_RULE}, at most {MAX_BUILDOUT_NAME} characters, "
               "e.g. [odoo-16.0-pg13]")
    return False
