"""Step sets of one buildout, checked and parsed while the manifest loads.

``post-dl-steps``, ``db-steps`` and ``post-buildout-steps`` name step sets;
``NAME.OPTION`` lines give their options. Given the catalog of known step
sets (their schemas, :mod:`.stepoptions`), :func:`load_step_options`
reports, at the line where the text was written:

- a name no step set has, or a step set that cannot be used (a plugin
  that failed to import), at the line naming it;
- an option of a step set the buildout does not use, an option the step
  set does not take (with "did you mean"), a bad value, at the option's
  line; a required option left out, at the line naming the step set;
- what the schema-level check of a step set finds.

It gives each used step set its parsed values (a ``StepOptions``), which
the factory hands to the step set as they are. The loader sees step sets
through a :class:`Catalog` of :class:`StepSetInfo` (``subfactories`` makes
one from its registry, importing a plugin only when a manifest names it).
No Buildbot import here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import Errors, Location, did_you_mean
from .inifile import IniOption
from .rules import RuleError
from .stepoptions import OMIT, OptionKey, Schema, StepOptions, schema_of

#: The options naming step sets, in build order.
STEP_LISTS = ("post-dl-steps", "db-steps", "post-buildout-steps")


@dataclass(frozen=True)
class StepSetInfo:
    """What the manifest loader knows of one step set: its schema, where it
    comes from, or why it cannot be used (a plugin that cannot be imported).
    """

    name: str
    schema: Schema | None          # None: unusable, see ``problem``
    origin: str = "built-in"       # "entry point 'x = mod:attr' of dist 1.0"
    problem: str | None = None

    def unusable_message(self) -> str:
        return f"step set {self.name!r} cannot be loaded: {self.problem}"

    def unusable_hint(self, option: str) -> str:
        return (f"{self.origin}: repair or remove that distribution, or take {self.name!r} "
                f"out of {option}")


def info_of(name: str, step_set: object, origin: str = "built-in") -> StepSetInfo:
    """A step set's ``StepSetInfo``; a bad schema makes it unusable."""
    try:
        return StepSetInfo(name, schema_of(step_set), origin)
    except TypeError as exc:
        return StepSetInfo(name, None, origin, str(exc))
    except Exception as exc:   # a plugin's attribute that raises when read
        return StepSetInfo(name, None, origin, f"reading its schema failed: "
                           f"{type(exc).__name__}: {exc}")


class Catalog(Mapping[str, StepSetInfo]):
    """Step sets by name as the loader sees them, made from a mapping of
    step-set callables; each is looked at when first asked for (a plugin
    is imported then, not before)."""

    def __init__(self, step_sets: Mapping[str, object],
                 describe: Callable[[str, object], StepSetInfo] | None = None) -> None:
        self._step_sets = step_sets
        self._describe = describe or info_of
        self._infos: dict[str, StepSetInfo] = {}

    def __getitem__(self, name: str) -> StepSetInfo:
        if name not in self._infos:
            self._infos[name] = self._describe(name, self._step_sets[name])
        return self._infos[name]

    def __contains__(self, name: object) -> bool:
        return name in self._step_sets

    def __iter__(self) -> Iterator[str]:
        return iter(self._step_sets)

    def __len__(self) -> int:
        return len(self._step_sets)


def unchecked_options(given: Mapping[str, IniOption]) -> dict[str, StepOptions]:
    """``NAME.OPTION`` values as written, without any schema (a manifest
    loaded without step sets: a tool reading manifests only)."""
    grouped: dict[str, dict[str, str]] = {}
    for key, option in given.items():
        stepset, _, name = key.partition(".")
        grouped.setdefault(stepset, {})[name] = option.value
    return {name: StepOptions(values, checked=False) for name, values in grouped.items()}


def load_step_options(buildout: str, spec: Any, named: Sequence[tuple[str, str, Location]],
                      given: Mapping[str, IniOption], catalog: Mapping[str, StepSetInfo],
                      errors: Errors) -> dict[str, StepOptions] | None:
    """Parsed options of every step set buildout ``buildout`` uses, or None
    after errors.

    ``named``: (list option, step set name, line) for each name written,
    valid names only; ``given``: the ``NAME.OPTION`` options by key;
    ``spec``: the buildout without its step options, which schema-level
    checks look at (its source, its other step sets...); None when the
    section has other errors: those checks are then skipped.
    """
    before = errors.count
    subject = f"buildout [{buildout}]"
    usable: dict[str, tuple[StepSetInfo, str, Location]] = {}
    for option, name, location in named:
        if name in usable:
            continue
        if name not in catalog:
            errors.add(location, f"unknown step set {name!r}", name,
                       hint="known: " + ", ".join(sorted(catalog)),
                       subject=f"{subject} {option}")
            continue
        info = catalog[name]   # a plugin is imported here, once per load
        if info.schema is None:
            errors.add(location, info.unusable_message(), hint=info.unusable_hint(option),
                       subject=f"{subject} {option}")
            continue
        usable[name] = (info, option, location)

    used = {name for _, name, _ in named}
    by_set: dict[str, dict[str, IniOption]] = {}
    for key, opt in given.items():
        stepset, _, option = key.partition(".")
        if stepset not in used:
            hint = (f"add {stepset!r} to post-buildout-steps, db-steps or post-dl-steps"
                    if stepset in catalog else did_you_mean(stepset, sorted(used) or catalog))
            errors.add(opt.location, f"option for step set {stepset!r}, which this buildout "
                       "does not use", key, hint=hint, subject=subject)
            continue
        if stepset not in usable:
            continue   # reported above
        schema = usable[stepset][0].schema
        assert schema is not None
        if not schema.open and schema.get(option) is None:
            errors.add(opt.location, f"unknown option of step set {stepset!r}", key,
                       hint=did_you_mean(option, schema.names) if schema.names
                       else f"{stepset!r} takes no options", subject=subject)
            continue
        by_set.setdefault(stepset, {})[option] = opt

    result = {}
    for name, (info, option, location) in usable.items():
        values = _parse(buildout, spec, info, option, location, by_set.get(name, {}), errors)
        if values is not None:
            result[name] = values
    return result if errors.count == before else None


def _parse(buildout: str, spec: Any, info: StepSetInfo, list_option: str, named_at: Location,
           given: Mapping[str, IniOption], errors: Errors) -> StepOptions | None:
    """One step set's values: each option through its type and check."""
    schema = info.schema
    assert schema is not None
    before = errors.count
    values: dict[str, Any] = {}
    if schema.open:
        values.update((name, opt.value) for name, opt in given.items())
    for option in schema.options:
        key = OptionKey(info.name, option)
        subject = f"buildout [{buildout}] {key}"
        opt = given.get(option.name)
        if opt is None:
            if option.required:
                errors.add(named_at, f"missing option '{key}'", hint=option.hint,
                           subject=subject)
            elif option.default is not OMIT:
                values[option.name] = option.default
            continue
        try:
            value = option.type.parse(opt.value, key)
            problem = option.check(value) if option.check is not None else None
        except RuleError as exc:
            errors.add(opt.location, exc.problem, _shown(exc.text, opt), exc.hint or option.hint,
                       subject=subject)
            continue
        except Exception as exc:   # a plugin's type or check with a bug
            errors.add(opt.location, f"step set {info.name!r} failed to check this value: "
                       f"{type(exc).__name__}: {exc}", _shown(None, opt),
                       hint=f"{info.origin}: report it to its authors", subject=subject)
            continue
        if problem is not None:
            errors.add(opt.location, problem, _shown(None, opt), option.hint, subject=subject)
            continue
        values[option.name] = value
    if errors.count != before:
        return None
    parsed = StepOptions(values)
    if schema.check is not None and spec is not None:
        _check(spec, info, schema, parsed, list_option, named_at, given, errors)
    return parsed if errors.count == before else None


def _check(spec: Any, info: StepSetInfo, schema: Schema, parsed: StepOptions,
           list_option: str, named_at: Location, given: Mapping[str, IniOption],
           errors: Errors) -> None:
    """The schema-level check; a plugin's check that raises is reported."""
    assert schema.check is not None
    try:
        problems = list(schema.check(parsed, spec))
    except Exception as exc:   # a plugin's bug must not be a bare traceback
        errors.add(named_at, f"step set {info.name!r} failed to check its options: "
                   f"{type(exc).__name__}: {exc}",
                   hint=f"{info.origin}: report it to its authors, or take {info.name!r} "
                   f"out of {list_option}", subject=f"buildout [{spec.name}] {list_option}")
        return
    for found in problems:
        opt = given.get(found.option) if found.option else None
        location = found.location or (opt.location if opt is not None else named_at)
        if found.option:
            subject = f"buildout [{spec.name}] {info.name}.{found.option}"
        elif found.location is None:   # at the line naming the step set
            subject = f"buildout [{spec.name}] {list_option}"
        else:
            subject = f"buildout [{spec.name}]"
        errors.add(location, found.problem, found.text, found.hint, subject=subject)


def _shown(part: str | None, opt: IniOption) -> str | None:
    """The text quoted in a message: the part at fault, else the value."""
    if part is not None:
        return part
    value = opt.value.strip()
    return value or None
