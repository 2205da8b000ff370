"""Reading one manifest section: typed access to its options, and the
parsers of the options that have a grammar of their own (``buildout``,
``watch``, ``buildout-options``, ``bootstrap-packages``, ``buildout-part``,
``test-command``).

Each parser reports into the section's ``Errors`` collector with the line
it read and returns a frozen value (``buildoutspec``) or a default, so
``manifest`` assembles a section in one pass whatever is wrong in it.
"""

from __future__ import annotations

import re
from pathlib import Path

from .buildoutspec import (
    DEFAULT_TEST_COMMAND,
    SOURCE_KEYWORDS,
    SOURCE_KINDS,
    WATCH_KINDS,
    Source,
    Watch,
)
from .confine import relative_path_problem, resolves_inside
from .constraint import Requirement, parse_requirement
from .errors import Diagnostic, Errors, Location, ParseError, did_you_mean
from .inifile import IniOption
from .rules import (
    PART_NAME_RULE,
    RuleError,
    is_part_name,
    parse_boolean,
    pip_requirement,
    split_arguments,
    split_list,
    whole_number,
)
from .template import parse_template
from .vcsref import REF_FORMS, URL_FORMS, ref_problem, url_problem

#: The forms of ``buildout =`` spelled out for hints.
_SOURCE_FORMS = "; ".join(f"{k} {' '.join(v)}" for k, v in SOURCE_KINDS.items())
_STEPSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_BUILDOUT_OPTION = re.compile(r"(?P<section>[^:=\s]+):(?P<option>[^:=\s]+)=(?P<value>.*)")


class SectionReader:
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


def standalone_file(folder: Path, text: str,
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


def parse_source(reader: SectionReader, manifest_dir: Path,
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
    if kind != "standalone" and not vcs_values_ok(reader, loc, "buildout", tool,
                                                   values["URL"], values.get("BRANCH")):
        return None
    if kind == "standalone":
        path = standalone_file(manifest_dir, values["PATH"], files)
        if isinstance(path, str):
            hint = (f"must resolve inside {manifest_dir} (symlinks are followed); copy the "
                    "file there" if "outside" in path else
                    f"paths are relative to the manifest's folder, here {manifest_dir}")
            reader.error(loc, "buildout", path, values["PATH"], hint=hint)
            return None
        return Source(kind, loc, path=path, cfg="buildout.cfg", root=manifest_dir)
    return Source(kind, loc, url=values["URL"], branch=values.get("BRANCH"),
                  cfg=values["CFG"], subdir=keywords.get("subdir"))


def checkout_paths_in_place(reader: SectionReader, source: Source) -> bool:
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


def parse_watch(reader: SectionReader) -> tuple[Watch, ...] | None:
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
        if vcs_values_ok(reader, loc, "watch", words[0], words[1], branch):
            watches.append(Watch(words[0], words[1], branch, loc))
    return tuple(dict.fromkeys(watches))


def vcs_values_ok(reader: SectionReader, loc: Location, option: str, tool: str, url: str,
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


def parse_buildout_options(reader: SectionReader) -> tuple[tuple[str, str, str], ...]:
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


def parse_bootstrap_packages(reader: SectionReader) -> tuple[str, ...]:
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


def parse_buildout_part(reader: SectionReader) -> str | None:
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


def on_its_line(exc: ParseError, opt: IniOption) -> tuple[ParseError, Location]:
    """Point an error in a multi-line value at its own line and column."""
    if exc.column is None or len(opt.lines) < 2:
        return exc, opt.first_location
    before = opt.value[: exc.column - 1]
    text, loc = opt.lines[before.count("\n")]
    exc.text = text
    exc.column = len(before) - before.rfind("\n")
    return exc, loc


def parse_test_command(reader: SectionReader) -> tuple[str, ...]:
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


def empty_watch_note(name: str, options: dict[str, IniOption], source: Source | None
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


