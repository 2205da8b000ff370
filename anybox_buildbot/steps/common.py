"""What the factory and the step sets share: where a buildout lives on the
worker, its caches, ``bin/buildout``'s command line (run by our locking
wrapper), the shipping of our worker scripts, and step conditions.

Why a module of its own: ``factory.py`` composes the step sets and the step
sets need these helpers; with the helpers in ``factory.py`` the two
imported each other. Both import this module, which imports neither.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from importlib import resources

from buildbot.plugins import steps
from buildbot.process import buildstep, remotetransfer
from buildbot.process.results import CANCELLED, FAILURE, SUCCESS, WARNINGS
from buildbot.steps.transfer import makeStatusRemoteCommand

from ..buildoutspec import BuildoutSpec
from .rendered import template_argument
from .source import ARCHIVE_DIR

#: Our worker scripts, shipped to the worker by ``ship()``.
SCRIPTS_DIR = str(resources.files("anybox_buildbot") / "worker_scripts")


def ship(script: str, workdir: str = "build") -> steps.FileDownload:
    """Copy one of our worker scripts next to the build, as anybox-<script>."""
    return steps.FileDownload(name=f"ship-{script}", mastersrc=f"{SCRIPTS_DIR}/{script}",
                              workerdest=f"anybox-{script}", workdir=workdir,
                              haltOnFailure=True)


class ShipScripts(steps.FileDownload):
    """Copy several of our worker scripts next to the build in one step,
    each as anybox-<script>, in the order given; the first that fails ends
    the step (FAILURE, and the build halts).

    Why one step: the file transfers are the same as one ``ship()`` per
    script, but each Buildbot step costs the master a step record, a log
    and a round of messages before and after it (about 0.1 s a step on a
    2-core machine, measured by ``bench/throughput.py --breakdown``): every
    warm build paid that three times for three small files.
    """

    name = "ship-scripts"

    def __init__(self, scripts: Sequence[str], workdir: str = "build", **kwargs) -> None:
        if not scripts:
            raise ValueError("ShipScripts needs at least one script")
        self.scripts = tuple(scripts)
        super().__init__(mastersrc=f"{SCRIPTS_DIR}/{scripts[0]}",
                         workerdest=f"anybox-{scripts[0]}", workdir=workdir, **kwargs)

    _interrupted = False

    def interrupt(self, reason):
        # FileDownload's interrupt stops the transfer under way; the next
        # ones must not start after it.
        self._interrupted = True
        return super().interrupt(reason)

    async def run(self) -> int:
        self.checkWorkerHasCommand("downloadFile")
        self.stdio_log = await self.addLog("stdio")
        shipped = []
        for script in self.scripts:
            if self._interrupted:
                self.descriptionDone = ["interrupted after", *shipped]
                return CANCELLED
            dest = f"anybox-{script}"
            try:
                source = open(f"{SCRIPTS_DIR}/{script}", "rb")   # closed below
            except OSError as exc:
                await self.addCompleteLog("stderr", f"{script} not available at master: {exc}")
                self.descriptionDone = ["could not ship", dest]
                return FAILURE
            args = {"maxsize": None, "reader": remotetransfer.FileReader(source),
                    "blocksize": self.blocksize, "workdir": self.workdir, "mode": None,
                    "workerdest": dest}
            try:
                result = await self.runTransferCommand(
                    makeStatusRemoteCommand(self, "downloadFile", args))
            finally:
                source.close()
            if result != SUCCESS:
                self.descriptionDone = ["could not ship", dest]
                return result
            shipped.append(dest)
        self.descriptionDone = ["shipped", *shipped]
        return SUCCESS


def ship_scripts(scripts: Sequence[str], workdir: str = "build") -> ShipScripts:
    """One step copying ``scripts`` (worker scripts) next to the build."""
    return ShipScripts(scripts, workdir=workdir, name="ship-scripts", haltOnFailure=True)


def buildout_dir(spec: BuildoutSpec) -> tuple[str, str]:
    """(workdir of the buildout steps, CFG relative to it).

    Buildout puts bin/ and parts/ next to its config file, so the steps run
    in the config file's folder: test commands like ``bin/test`` then work
    whatever the checkout layout (``subdir=``, archives, nested CFG).
    """
    parts = ["build"]
    if spec.source.kind == "archive":
        parts.append(ARCHIVE_DIR)
    if spec.source.subdir:
        parts.append(spec.source.subdir)
    folder, cfg = posixpath.split(spec.source.cfg)
    if folder:
        parts.append(folder)
    return posixpath.normpath(posixpath.join(*parts)), cfg


def cache_dir(workdir: str) -> str:
    """Path from ``workdir`` to ``<worker basedir>/buildout-caches``.

    Step workdirs are relative to ``<worker basedir>/<builder>``.
    """
    depth = len(workdir.split("/")) + 1
    return "/".join([".."] * depth + ["buildout-caches"])


#: What makes mr.developer (and recipes following its option) update the
#: checkouts it made to their branch's head on every run, so a build
#: triggered by a commit there tests that commit (``update-checkouts``).
ALWAYS_CHECKOUT = ("buildout", "always-checkout", "force")


def buildout_command(spec: BuildoutSpec, cfg: str, caches: str) -> list:
    """``bin/buildout`` with the per-worker caches and the manifest's options
    (rendered when the step starts: see ``steps.rendered``)."""
    command: list = ["venv/bin/buildout", "-c", cfg,
                     f"buildout:eggs-directory={caches}/eggs",
                     f"buildout:download-cache={caches}/downloads"]
    given = {(section, option) for section, option, _value in spec.buildout_options}
    if spec.update_checkouts and ALWAYS_CHECKOUT[:2] not in given:
        command.append("{}:{}={}".format(*ALWAYS_CHECKOUT))
    command.extend(template_argument(f"{section}:{option}=", value)
                   for section, option, value in spec.buildout_options)
    return command


def locked_buildout_command(caches: str, command: list[str]) -> list[str]:
    """``command`` (a ``buildout_command``) run by the shipped
    ``anybox-buildout.py``: side by side with other builds of the worker,
    taking the caches' write lock only to fetch a missing distribution
    (docs/decisions.rst, "Concurrent builds on one worker")."""
    return ["venv/bin/python", "anybox-buildout.py", "--caches", caches, "--", *command]


def no_failure_so_far(step: buildstep.BuildStep) -> bool:
    """``doStepIf``: the build has neither failed nor been halted so far
    (warnings are fine: a lint warning must not stop an autocommit)."""
    return step.build.results in (SUCCESS, WARNINGS)
