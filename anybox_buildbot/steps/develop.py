"""The ``check-develop`` step: after ``bin/buildout``, were the develop
projects installed from the checkout, and at which revisions?

The work is done on the worker by ``worker_scripts/develop_check.py``
(why: see its docstring); this step runs it with the build's venv Python
and turns its ``revision: NAME VCS REV`` lines into the build property
``develop_revisions`` (``{NAME: "VCS REV"}``), so the build shows which
revision of each develop checkout (mr.developer sources included) it
tested.

Those lines are written by a worker from repository content: untrusted.
Only lines of the exact shape are kept (a name of letters, digits, ``.``,
``_``, ``-``; ``git`` or ``hg``; a hexadecimal revision), at most
``MAX_REVISIONS`` of them. The output is read line by line as it comes
and never kept: a checkout (or a hostile worker) printing gigabytes costs
the master nothing but the time to read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from buildbot.process import buildstep, logobserver
from buildbot.process.results import SUCCESS

REVISIONS_PROPERTY = "develop_revisions"
MAX_REVISIONS = 200
_LINE = re.compile(r"revision: (?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,99}) "
                   r"(?P<vcs>git|hg) (?P<rev>[0-9a-f]{7,64})")


def add_revision(revisions: dict[str, str], line: str) -> None:
    """Add ``line`` to ``revisions`` if it is a well-formed ``revision:``
    line and fewer than ``MAX_REVISIONS`` are known (the first one of a
    name wins)."""
    match = _LINE.fullmatch(line.strip())
    if match and len(revisions) < MAX_REVISIONS:
        revisions.setdefault(match["name"], f"{match['vcs']} {match['rev']}")


def develop_revisions(lines: Iterable[str]) -> dict[str, str]:
    """``{NAME: "VCS REV"}`` of the well-formed ``revision:`` lines."""
    revisions: dict[str, str] = {}
    for line in lines:
        add_revision(revisions, line)
    return revisions


class CheckDevelop(buildstep.ShellMixin, buildstep.BuildStep):
    """Run the develop check; fail the build when a develop project did not
    come from the checkout (the script says what happened and the fix)."""

    name = "check-develop"
    haltOnFailure = True

    def __init__(self, **kwargs) -> None:
        kwargs = self.setupShellMixin(kwargs)
        super().__init__(**kwargs)
        self.revisions: dict[str, str] = {}
        self.addLogObserver("stdio", logobserver.LineConsumerLogObserver(self._consume))

    def _consume(self):
        while True:
            stream, line = yield
            if stream == "o":
                add_revision(self.revisions, line)

    async def run(self) -> int:
        cmd = await self.makeRemoteShellCommand()
        await self.runCommand(cmd)
        await self.getLog("stdio").finish()
        result = cmd.results()
        if self.revisions:   # a failed check still tells what it saw
            self.setProperty(REVISIONS_PROPERTY, dict(self.revisions), self.name)
        self.descriptionDone = (["develop", "projects", "from", "the", "checkout"]
                                if result == SUCCESS else
                                ["develop", "projects", "NOT", "from", "the", "checkout"])
        return result


def check_develop_step(buildout_version: str, workdir: str, env) -> CheckDevelop:
    """The step, run with the build's venv (it exists once bootstrap ran)."""
    return CheckDevelop(
        name="check-develop", haltOnFailure=True, workdir=workdir, env=env,
        command=["venv/bin/python", "anybox-develop_check.py",
                 "--buildout-version", buildout_version])
