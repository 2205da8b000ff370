"""Port step sets: ``reserve-port``, and the reservation other sets share.

A build that listens on a TCP port (an Odoo server with ``--test-enable``
serves its HTTP tests, functional tests drive a running server) takes one
port of a range for itself, so that builds side by side on one worker never
collide (:mod:`..steps.ports`). The first port-using set a buildout lists
adds, once per build:

- ``reserve-port`` (on the master): property ``build_port``,
  ``BUILD_PORT`` in the build environment;
- at the end of the build, ``release-port``, which runs even after a
  failure.

Port-using sets: ``reserve-port`` (for a build's own commands, which read
``$BUILD_PORT``), ``functional-odoo``, and the Odoo sets given
``NAME.port = true``. Each takes ``NAME.ports = FIRST-LAST``: the range
used on workers whose admin declared none (``build-ports`` in
``workers.cfg`` wins: the admin knows which ports are free there).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ..ports import PortRange, parse_port_range
from ..rules import RuleError
from ..stepoptions import Option, OptionKey, Schema, Text
from ..steps.ports import ReleasePort, ReservePort
from . import StepContext, StepSet

#: Sets that always take a port; the Odoo sets do when ``port = true``.
ALWAYS = ("reserve-port", "functional-odoo")
OPTIONAL = ("install-modules-test", "install-modules", "update-odoo", "odoo-default",
            "openerpcommand-initialize-tests")


class Ports(Text):
    """``FIRST-LAST`` (or one port): a :class:`~..ports.PortRange`."""

    def parse(self, text: str, key: OptionKey) -> PortRange:
        value = super().parse(text, key)
        try:
            return parse_port_range(value)
        except RuleError as exc:
            raise RuleError(exc.problem, exc.hint or f"e.g. {key} = 8069-8079",
                            text=exc.text) from None


def ports_option() -> Option:
    return Option("ports", Ports(), default=None,
                  hint="e.g. ports = 8069-8079; the worker's build-ports wins",
                  doc="the ports to reserve from on workers without build-ports")


def uses_port(name: str, options: Mapping[str, Any] | None) -> bool:
    """Whether step set ``name`` with these options takes a port."""
    if name in ALWAYS:
        return True
    return name in OPTIONAL and options is not None and options.get("port") is True


def _port_sets(context: StepContext) -> list[str]:
    spec = context.buildout
    return [name for name in dict.fromkeys(spec.step_sets)
            if uses_port(name, spec.step_options.get(name))]


@functools.lru_cache(maxsize=256)
def _reserve(fallback: PortRange | None, set_name: str) -> ReservePort:
    # Identical recipes are shared between factories (factory.FactoryMaker).
    return ReservePort(fallback=fallback, set_name=set_name)


_RELEASE = ReleasePort()


def port_prelude(name: str, context: StepContext) -> StepSet:
    """``reserve-port`` and the final ``release-port``, or nothing when an
    earlier set of the buildout added them (one port per build).

    The manifest's range is the ``ports`` of the port-using sets; two
    different ones are an error (which would the build take?).
    """
    users = _port_sets(context)
    if users and users[0] != name:
        return StepSet()
    spec = context.buildout
    ranges = {user: spec.step_options[user].get("ports") for user in users}
    given = {user: value for user, value in ranges.items() if value is not None}
    if len(set(given.values())) > 1:
        shown = ", ".join(f"{user}.ports = {value}" for user, value in given.items())
        context.option_error(next(iter(given)), "ports",
                             "different port ranges for one build", shown,
                             hint="a build takes one port: give the range once, or the same")
    fallback = next(iter(given.values()), None)
    owner = next(iter(given), name)
    return StepSet(steps=[_reserve(fallback, owner)], cleanup=[_RELEASE])


def reserve_port(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """Reserve a TCP port for the build's own commands (``$BUILD_PORT``)."""
    return port_prelude("reserve-port", context)


reserve_port.schema = Schema(ports_option())  # type: ignore[attr-defined]

STEP_SETS = {"reserve-port": reserve_port}
