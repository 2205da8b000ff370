"""Per-build TCP port reservation: the master-side pool and its two steps.

Why on the master: a worker is attached to one master, and that master
starts every build the worker runs; its reactor runs one step at a time,
so a reservation made there cannot race with another build's, whatever
``max_builds`` says. (The original anybox.buildbot.odoo probed ports on
the worker under a lock: a port could be probed free by two builds before
either server bound it.)

- ``reserve-port`` (:class:`ReservePort`, on the master) takes the lowest
  port of the range no running build on this worker holds and publishes it
  as the ``build_port`` property and ``BUILD_PORT`` in the build
  environment. The range is the worker's ``build-ports`` (worker property
  ``build_ports``, parsed when ``workers.cfg`` was loaded), else the one
  the manifest gave.
- ``release-port`` (:class:`ReleasePort`, a cleanup step: it runs even
  after a failure) gives it back.

If a build ends without its release step running (a master shutting down
mid-build), the next reservation on that worker reclaims the ports of
builds that are finished: a port never stays held by a dead build.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

from buildbot.process import buildstep
from buildbot.process.results import FAILURE, SUCCESS

from ..ports import PortRange
from ..workers import PORTS, PORTS_PROPERTY
from .capabilities import ENV_PROPERTY

PORT_PROPERTY = "build_port"
PORT_ENV = "BUILD_PORT"
SOURCE = "reserve-port"


class PortPool:
    """Ports held by running builds, per worker name.

    ``holder`` is anything hashable naming a build (the step gives the
    Build object); ``alive(holder)`` tells whether it still runs, so that
    the ports of builds that ended without releasing are reclaimed.
    """

    def __init__(self) -> None:
        self._held: dict[str, dict[int, Hashable]] = {}

    def reserve(self, worker: str, ports: Iterable[int], holder: Hashable,
                alive: Callable[[Hashable], bool] = lambda holder: True) -> int | None:
        """The first of ``ports`` free on ``worker``, now held by
        ``holder``; None when all are held. A holder that already holds a
        port of ``ports`` gets that one again (a step run twice)."""
        held = self._held.setdefault(worker, {})
        for port, other in list(held.items()):
            if other is not holder and not alive(other):
                del held[port]
        candidates = list(ports)
        for port in candidates:
            if held.get(port) is holder:
                return port
        for port in candidates:
            if port not in held:
                held[port] = holder
                return port
        return None

    def release(self, worker: str, holder: Hashable) -> list[int]:
        """Give back every port ``holder`` holds on ``worker``."""
        held = self._held.get(worker, {})
        freed = sorted(port for port, other in held.items() if other is holder)
        for port in freed:
            del held[port]
        return freed

    def held(self, worker: str) -> dict[int, Hashable]:
        """Port -> holder, on ``worker`` (a copy)."""
        return dict(self._held.get(worker, {}))


#: The pool of this master process. It outlives reconfigs (the module
#: stays imported) and, like the builds it serves, dies with the master.
POOL = PortPool()


def _is_running(build: object) -> bool:
    return not getattr(build, "finished", False)


def with_port(env: object, port: int) -> dict:
    """The build environment plus ``BUILD_PORT`` (a copy: properties are
    shared with the build history)."""
    result = dict(env) if isinstance(env, dict) else {}
    result[PORT_ENV] = str(port)
    return result


def _describe(holder: object) -> str:
    builder = getattr(getattr(holder, "builder", None), "name", None)
    number = getattr(holder, "number", None)
    return f"{builder} #{number}" if builder is not None else repr(holder)


class ReservePort(buildstep.BuildStep):
    """Take a free port of the worker's range (else ``fallback``, the
    manifest's) for this build; see the module docstring."""

    name = "reserve-port"
    haltOnFailure = True

    def __init__(self, fallback: PortRange | None = None, set_name: str = "reserve-port",
                 pool: PortPool | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.fallback = fallback
        self.set_name = set_name
        self.pool = pool if pool is not None else POOL

    async def run(self) -> int:
        worker = self.build.getWorkerName()
        declared = self.getProperty(PORTS_PROPERTY)
        ports = PortRange.from_property(declared)
        origin = f"the worker's {PORTS}"
        if ports is None:
            ports, origin = self.fallback, f"the manifest's {self.set_name}.ports"
        if ports is None:
            await self.addCompleteLog("reserve-port", (
                f"worker {worker!r} declares no port range and the manifest gives none:\n"
                f"add '{PORTS} = 8069-8079' to its section of workers.cfg, or "
                f"'{self.set_name}.ports = 8069-8079' to the buildout\n"))
            self.descriptionDone = ["no", "port", "range"]
            return FAILURE
        port = self.pool.reserve(worker, ports, self.build, _is_running)
        if port is None:
            holders = sorted(f"{p} ({_describe(h)})" for p, h in
                             self.pool.held(worker).items() if p in ports)
            await self.addCompleteLog("reserve-port", (
                f"all {len(ports)} ports of {ports} ({origin}) are held by running builds "
                f"on worker {worker!r}: {', '.join(holders)}\n"
                "widen the range to at least the worker's max_builds\n"))
            self.descriptionDone = ["no", "free", "port", "in", str(ports)]
            return FAILURE
        self.setProperty(PORT_PROPERTY, port, SOURCE)
        self.setProperty(ENV_PROPERTY, with_port(self.getProperty(ENV_PROPERTY), port), SOURCE)
        await self.addCompleteLog("reserve-port", (
            f"port {port} of {ports} ({origin}) on worker {worker!r}\n"
            f"property {PORT_PROPERTY} = {port}, {PORT_ENV}={port} for the next steps\n"))
        self.descriptionDone = ["port", str(port)]
        return SUCCESS


class ReleasePort(buildstep.BuildStep):
    """Give this build's port back to the pool (a cleanup step)."""

    name = "release-port"
    alwaysRun = True
    flunkOnFailure = False

    def __init__(self, pool: PortPool | None = None, **kwargs) -> None:
        kwargs.setdefault("alwaysRun", True)
        super().__init__(**kwargs)
        self.pool = pool if pool is not None else POOL

    async def run(self) -> int:
        freed = self.pool.release(self.build.getWorkerName(), self.build)
        self.descriptionDone = (["released", "port", *map(str, freed)] if freed
                                else ["no", "port", "held"])
        return SUCCESS
