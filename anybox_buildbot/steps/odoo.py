"""The Odoo server step of the Odoo step sets (``subfactories/odoo.py``).

``OdooCommand`` runs ``bin/<buildout-part> ... --stop-after-init`` against
the build's database and reads Odoo's log, because Odoo often exits 0 when
a module failed to install or a test failed. ``server_was_started`` is
the condition of ``functional-odoo``'s stop step.
"""

from __future__ import annotations

import re

from buildbot.process import buildstep, logobserver
from buildbot.process.results import FAILURE, SKIPPED, WARNINGS, worst_status

#: An Odoo log line at level ERROR or CRITICAL:
#: ``2024-05-01 10:00:00,123 4242 ERROR dbname odoo.modules.loading: ...``
ODOO_ERROR_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?:ERROR|CRITICAL) ")
LOG_ERRORS_CHOICES = ("fail", "warn", "ignore")


class OdooCommand(buildstep.ShellMixin, buildstep.BuildStep):
    """Run an Odoo server command; ERROR/CRITICAL log lines count.

    Odoo often exits 0 even when a module failed to install or a test
    failed (older versions always do), so the log is the reliable signal.
    ``log_errors``: ``fail`` (default) fails the step when such lines
    appear, ``warn`` only gives a warning, ``ignore`` trusts the exit code.
    The matching lines are gathered in an ``odoo-errors`` log.
    """

    name = "odoo"
    warnOnWarnings = True   # a 'warn' result must show on the build, not only the step

    def __init__(self, log_errors: str = "fail", **kwargs) -> None:
        if log_errors not in LOG_ERRORS_CHOICES:
            raise ValueError(f"log_errors must be one of {LOG_ERRORS_CHOICES}")
        self.log_errors = log_errors
        kwargs = self.setupShellMixin(kwargs)
        super().__init__(**kwargs)
        self.error_lines: list[str] = []
        if log_errors != "ignore":
            self.addLogObserver("stdio", logobserver.LineConsumerLogObserver(self._consume))

    def _consume(self):
        while True:
            _stream, line = yield
            if ODOO_ERROR_LINE.match(line):
                self.error_lines.append(line)

    async def run(self) -> int:
        cmd = await self.makeRemoteShellCommand()
        await self.runCommand(cmd)
        stdio = self.getLog("stdio")
        await stdio.finish()
        result = cmd.results()
        if self.error_lines:
            count = len(self.error_lines)
            shown = self.error_lines[:1000]
            await self.addCompleteLog("odoo-errors", "\n".join(shown) + "\n")
            self.descriptionSuffix = [f"{count} error line{'s' if count > 1 else ''}"]
            result = worst_status(result, FAILURE if self.log_errors == "fail" else WARNINGS)
        return result


#: Name of the step that starts the server of ``functional-odoo``.
SERVER_START_STEP = "odoo-start"


def server_was_started(step: buildstep.BuildStep) -> bool:
    """``doStepIf`` of ``odoo-stop``: the start step ran (not skipped), so
    its script is on the worker and there may be a server to stop, even if
    a later step failed and halted the build."""
    return any(done.name == SERVER_START_STEP and done.results not in (None, SKIPPED)
               for done in step.build.executedSteps if done is not step)
