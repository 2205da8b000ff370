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
``MAX_REVISIONS`` of them.
"""

from __future__ import annotations

import re

from buildbot.process.results import SUCCESS
from buildbot.steps.shell import SetPropertyFromCommand

REVISIONS_PROPERTY = "develop_revisions"
MAX_REVISIONS = 200
_LINE = re.compile(r"revision: (?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,99}) "
                   r"(?P<vcs>git|hg) (?P<rev>[0-9a-f]{7,64})")


def develop_revisions(rc: int, stdout: str, stderr: str) -> dict[str, dict[str, str]]:
    """``extract_fn``: the well-formed ``revision:`` lines of the output."""
    revisions: dict[str, str] = {}
    for line in stdout.splitlines():
        match = _LINE.fullmatch(line.strip())
        if match and len(revisions) < MAX_REVISIONS:
            revisions.setdefault(match["name"], f"{match['vcs']} {match['rev']}")
    return {REVISIONS_PROPERTY: revisions} if revisions else {}


class CheckDevelop(SetPropertyFromCommand):
    """Run the develop check; fail the build when a develop project did not
    come from the checkout (the script says what happened and the fix)."""

    name = "check-develop"
    haltOnFailure = True

    def __init__(self, **kwargs) -> None:
        super().__init__(extract_fn=develop_revisions, **kwargs)

    async def run(self) -> int:
        result = await super().run()
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
