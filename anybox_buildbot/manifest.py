"""MANIFEST.cfg files -> validated ``BuildoutSpec`` values.

Each section (but ``[DEFAULT]``) is a buildout to build. ``inherit``
chains are resolved on the raw options first, so every later check sees
the options the section really ends up with and reports them at the line
where they were written (possibly in the parent section).

This module loads the files and assembles each section; the values live
in ``buildoutspec``, the parsers of single options in ``manifestoptions``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from .buildoutspec import (
    DEFAULT_BUILDOUT_VERSION,
    DEFAULT_POST_BUILDOUT_STEPS,
    DEFAULT_TREE_STABLE_TIMER,
    BuildoutSpec,
    Source,
    Watch,  # noqa: F401  (documented here, docs/api.rst)
)
from .confine import MAX_BUILDOUT_NAME, SAFE_NAME_RULE, name_problem
from .cron import parse_cron
from .deprecated import manifest_options
from .errors import Errors, Location, ParseError, did_you_mean
from .inherit import SharedLines, resolve_inherit, shared_line_owners
from .inifile import IniFile, IniOption, IniSection, read_ini
from .manifestoptions import (
    SectionReader,
    checkout_paths_in_place,
    empty_watch_note,
    on_its_line,
    parse_bootstrap_packages,
    parse_buildout_options,
    parse_buildout_part,
    parse_source,
    parse_test_command,
    parse_watch,
)
from .notify import parse_notify_option
from .steploading import StepSetInfo, load_step_options, unchecked_options
from .template import Template, parse_template

KNOWN_OPTIONS = frozenset({
    "buildout", "inherit", "build-requires", "build-for", "build-category", "watch",
    "auto-watch", "tree-stable-timer", "nightly", "buildout-version", "buildout-options",
    "buildout-part", "post-dl-steps", "db-steps", "post-buildout-steps", "test-command",
    "git-shallow", "notify", "watch-buildout", "update-checkouts", "bootstrap-packages",
})
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PIP_VERSION = re.compile(r"[0-9][0-9A-Za-z.+!-]*")


#: A check of the loader's caller run on each section, ``(spec, errors)``.
SectionCheck = Callable[[BuildoutSpec, Errors], None]


def _parse_section(name: str, options: dict[str, IniOption], location: Location,
                   manifest_dir: Path, errors: Errors,
                   files: dict[tuple[Path, str], Path | str] | None = None,
                   check: SectionCheck | None = None,
                   step_sets: Mapping[str, StepSetInfo] | None = None
                   ) -> BuildoutSpec | None:
    options, deprecations = manifest_options(f"buildout [{name}]", options)
    reader = SectionReader(name, options, errors, location)
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
                errors.add_parse_error(*on_its_line(exc, opt), f"{reader.subject} {key}")
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

    source = parse_source(reader, manifest_dir, {} if files is None else files)
    if source is not None and source.kind != "standalone" \
            and not checkout_paths_in_place(reader, source):
        source = None
    build_requires = reader.requirements("build-requires")
    build_for = reader.requirements("build-for")
    category = reader.words("build-category") or ()
    watch = parse_watch(reader)
    auto_watch = reader.boolean("auto-watch", False)
    update_checkouts = reader.boolean("update-checkouts", auto_watch)
    bootstrap_packages = parse_bootstrap_packages(reader)
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
    part = parse_buildout_part(reader)
    test_command = parse_test_command(reader)
    spec_kwargs = dict(
        post_dl_steps=reader.step_names("post-dl-steps"),
        db_steps=reader.step_names("db-steps"),
        post_buildout_steps=reader.step_names("post-buildout-steps",
                                              DEFAULT_POST_BUILDOUT_STEPS),
        buildout_options=parse_buildout_options(reader),
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
        deprecations=deprecations + empty_watch_note(name, options, source))
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
