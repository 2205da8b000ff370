"""The first step of every build: publish the capability instances it uses.

A builder may run on several workers and a worker may have several
instances of a capability (two PostgreSQL clusters), so which instance a
build uses depends on the worker that took it. The dispatch plan decided it
for every (builder, worker) pair (``dispatch.choose_instance``, the one
implementation of the rule); this step looks the decision up and turns the
instances into ``cap_<name>_<option>`` properties, the version properties,
and the build environment (property ``anybox_env``) that every later
command uses.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence

from buildbot.process import buildstep
from buildbot.process.results import FAILURE, SUCCESS

from ..capability import Capability
from ..plan import ChoiceBook
from ..registry import PREPENDED_VARS, CapabilitySpec, property_safe
from ..template import Template

ENV_PROPERTY = "anybox_env"
PYTHON_PROPERTY = "anybox_python"
SOURCE = "Capabilities"


def python_command(cap: Capability | None) -> str:
    """The interpreter used to bootstrap, from the ``python`` capability."""
    if cap is None:
        return "python3"
    if "executable" in cap.options:
        return cap.options["executable"]
    exe = f"python{cap.version_text}" if cap.version is not None else "python3"
    if "bin" in cap.options:
        return f"{cap.options['bin'].rstrip('/')}/{exe}"
    return exe


def build_environment(chosen: Sequence[tuple[Capability, CapabilitySpec]],
                      extra: Sequence[tuple[str, Template]],
                      prop, worker_env: Mapping[str, str] | None = None
                      ) -> dict[str, str | list[str]]:
    """Render the registry and manifest templates into a worker ``env``.

    Empty values are left out; PATH-like variables become lists ending in
    ``${VAR}`` so the worker prepends to its own value instead of replacing
    it -- unless the worker has no such variable: an empty trailing entry
    would make the dynamic loader search the current directory.
    """
    env: dict[str, str | list[str]] = {}
    prepend: dict[str, list[str]] = {}

    def put(var: str, value: str) -> None:
        if not value:
            return
        if var in PREPENDED_VARS:
            prepend.setdefault(var, []).append(value)
        else:
            env[var] = value

    for cap, spec in chosen:
        for var, template in spec.environ:
            put(var, template.render(cap.options.get, prop))
    for var, template in extra:
        put(var, template.render(lambda _opt: None, prop))
    for var, values in prepend.items():
        tail = [f"${{{var}}}"] if worker_env is None or worker_env.get(var) else []
        env[var] = [*dict.fromkeys(values), *tail]
    return env


def extend_environment(env: Mapping[str, str | list[str]],
                       extra: Sequence[tuple[str, Template]], prop,
                       worker_env: Mapping[str, str] | None = None
                       ) -> dict[str, str | list[str]]:
    """``env`` plus the templates ``extra`` rendered now, by the rules of
    :func:`build_environment`: the same result as if they had been rendered
    with it, for templates that need a value known only later (the
    ``testing-db`` step renders the manifest's ``env.VAR`` this way)."""
    result = dict(env)
    for var, value in build_environment((), extra, prop, worker_env).items():
        old = result.get(var)
        if isinstance(value, list) and isinstance(old, list):
            tail = f"${{{var}}}"
            values = [v for v in (*old, *value) if v != tail]
            ends = [tail] if tail in old or tail in value else []
            result[var] = [*dict.fromkeys(values), *ends]
        else:
            result[var] = value
    return result


_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def shell_assignment(var: str, value: str | list[str]) -> str:
    """``VAR=value`` as a shell user would write it, for the step's log.

    A list (a PATH-like variable) is joined with ``:`` and its ``${VAR}``
    entry becomes ``$VAR``: ``PATH=/usr/lib/postgresql/15/bin:$PATH``.
    Anything a shell would split or expand is quoted.
    """
    parts = value if isinstance(value, list) else [value]

    def show(part: str) -> str:
        ref = _REFERENCE.fullmatch(part)
        return f"${ref[1]}" if ref and isinstance(value, list) else shlex.quote(part)

    return f"{var}={':'.join(show(p) for p in parts)}"


class ChooseCapabilities(buildstep.BuildStep):
    """Publish the plan's instances for this (builder, worker) as properties
    and env.

    The factory, and so this step, is shared by every builder of a buildout
    (and by buildouts with the same env lines): the decision is found at
    build time in ``choices``, by the builder's and the worker's names.
    """

    name = "capabilities"
    haltOnFailure = True

    def __init__(self, choices: ChoiceBook, registry: Mapping[str, CapabilitySpec],
                 extra_env: Sequence[tuple[str, Template]] = (), **kwargs) -> None:
        super().__init__(**kwargs)
        self.choices = choices
        self.registry = registry
        self.extra_env = tuple(extra_env)

    async def run(self) -> int:
        builder = self.build.builder.name
        worker = self.build.getWorkerName()
        lines = [f"worker {worker}"]
        decided = self.choices.chosen(builder, worker)
        if decided is None:
            # Only a builder the plan did not make (an admin's own, reusing
            # our factory) or a worker it did not give to it gets here.
            await self.addCompleteLog("capabilities", "\n".join(
                [*lines, f"the dispatch plan has no capability choice for builder "
                 f"{builder!r} on this worker"]) + "\n")
            self.descriptionDone = ["no capability choice"]
            return FAILURE
        chosen: list[tuple[Capability, CapabilitySpec]] = []
        python_cap = None
        for wanted, cap in decided:
            lines.append(f"{wanted.name}: {cap.format()}")
            if cap.version is not None:
                self.setProperty(wanted.version_prop, cap.version.text, SOURCE)
            for option, value in cap.options.items():
                prop = f"cap_{property_safe(wanted.name)}_{property_safe(option)}"
                self.setProperty(prop, value, SOURCE)
            spec = self.registry.get(wanted.name)
            if spec is not None:
                chosen.append((cap, spec))
            if wanted.name == "python":
                python_cap = cap
        worker_env = getattr(self.worker, "worker_environ", None)
        env = build_environment(chosen, self.extra_env, self.getProperty, worker_env)
        self.setProperty(ENV_PROPERTY, env, SOURCE)
        self.setProperty(PYTHON_PROPERTY, python_command(python_cap), SOURCE)
        lines.extend(f"env {shell_assignment(k, v)}" for k, v in sorted(env.items()))
        await self.addCompleteLog("capabilities", "\n".join(lines) + "\n")
        self.descriptionDone = ["capabilities", *(c.format().split()[0] + " "
                                                  + (c.version_text or "") for c, _ in chosen)]
        return SUCCESS
