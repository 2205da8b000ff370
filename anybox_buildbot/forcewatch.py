"""What ``anybox-buildbot force`` says: the worker check, then the build as it runs.

``force --wait`` follows a build request over the REST API and prints, in
this order: the build's web page as soon as a worker took it, each step
once as it finishes (name, result, duration), the build's result, and for
a build that did not succeed the last lines of the log of its first
failing step, so that the cause is on the terminal without a browser.

Everything printed from the master is untrusted text (step names, states,
log lines a build wrote): control characters are replaced so that a test
printing escape sequences cannot drive the admin's terminal, and each line
is bounded. Properties are never printed; log lines are what Buildbot
stored, secrets already replaced by ``<secret>``.

``--worker NAME`` is checked before anything is forced: the builder's
workers come from the master (``builders/ID/workers``), and a worker that
is not one of them is refused with the list of those that are.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .restclient import RESULTS, Client, RestError

#: The build-request property Buildbot's ``WorkerChoiceParameter`` sets and
#: the builders' ``canStartBuild`` reads (:mod:`anybox_buildbot.workerchoice`).
WORKER_PROPERTY = "workername"
#: Log lines printed for a failed build, unless ``--log-lines`` says otherwise.
DEFAULT_LOG_LINES = 40
#: Longest line printed from a log; the rest is cut (a minified file, a progress bar).
LINE_LIMIT = 500
#: Lines fetched above the tail, for the stdio header lines that are dropped.
_HEADER_MARGIN = 20

SUCCESS, WARNINGS, FAILURE, SKIPPED, EXCEPTION, RETRY, CANCELLED = range(7)


def wait_exit_code(result: int | None) -> int:
    """0 for success/warnings, 10 + result otherwise: never mistaken for the
    usage (2) and error (1) codes."""
    return 0 if result in (SUCCESS, WARNINGS) else 10 + int(result if result is not None else 2)


def result_word(result: int | None) -> str:
    return RESULTS[result] if result is not None and 0 <= result < len(RESULTS) else "?"


def printable(text: object, limit: int = LINE_LIMIT) -> str:
    """One line a terminal shows as it is: what follows the last carriage
    return (a progress bar's final state), control characters as ``?``,
    at most ``limit`` characters."""
    line = str(text).rstrip("\r\n")
    if "\r" in line:
        line = line.rsplit("\r", 1)[-1] or line.replace("\r", "")
    line = "".join(c if c.isprintable() or c == "\t" else "?" for c in line)
    return line if len(line) <= limit else line[:limit] + f"... ({len(line) - limit} more)"


def build_url(base: str, builderid: int, number: int) -> str:
    """The web UI's page of a build (``base`` is the master's address)."""
    return f"{base.rstrip('/')}/#/builders/{int(builderid)}/builds/{int(number)}"


def request_url(base: str, brid: int) -> str:
    """The web UI's page of a build request (it shows the build once started)."""
    return f"{base.rstrip('/')}/#/buildrequests/{int(brid)}"


def duration_text(seconds: float) -> str:
    if seconds < 1:
        return "<1 s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def step_line(step: dict[str, Any]) -> str:
    """``  step 3 test: failure (12 s)``; a step that never ran has no duration."""
    line = f"  step {step['number']} {printable(step['name'], 100)}: {result_word(step['results'])}"
    started, ended = step.get("started_at"), step.get("complete_at")
    if started is not None and ended is not None:
        line += f" ({duration_text(max(0, ended - started))})"
    return line


def failed_step(steps: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The first step that failed or broke (later failures often follow from it)."""
    return next((s for s in sorted(steps, key=lambda s: s["number"])
                 if s.get("results") in (FAILURE, EXCEPTION)), None)


def choose_log(logs: Sequence[dict[str, Any]], result: int | None) -> dict[str, Any] | None:
    """The log that explains a failed step: ``stdio``; for an exception,
    Buildbot's traceback (``err.text``) first; else the first text log."""
    by_slug = {log["slug"]: log for log in logs}
    order = ["err_text", "stdio"] if result == EXCEPTION else ["stdio"]
    for slug in order:
        if slug in by_slug:
            return by_slug[slug]
    return next((log for log in logs if log.get("type") in ("s", "t")), None)


def tail_lines(content: str, log_type: str, count: int) -> list[str]:
    """The last ``count`` lines of stored log text, ready to print.

    A stdio log's lines start with their stream; its header lines (the
    command, the environment, "program finished with exit code") are left
    out when the tail has output lines, kept when it has nothing else (a
    command that could not start says why there).
    """
    lines = content.splitlines()
    if log_type == "s":
        output = [line[1:] for line in lines if line[:1] in ("o", "e")]
        lines = output if output else [line[1:] for line in lines]
    return [printable(line) for line in lines[-count:]] if count > 0 else []


@dataclass(frozen=True)
class WorkerCheck:
    """Whether a build of a builder may be forced onto a worker."""

    refusal: str | None = None
    note: str | None = None


def check_worker(client: Client, builder: str, worker: str) -> WorkerCheck:
    """Refuse a worker that cannot run ``builder``, naming those that can.

    An unknown builder is left to the force itself (its own error). A
    master whose force scheduler takes no worker choice would run the build
    anywhere: that is an error too, not a silent surprise.
    """
    found = client.builders().get(builder)
    if found is None:
        return WorkerCheck()
    workers = {w["name"]: w for w in client.builder_workers(found["builderid"])}
    if worker not in workers:
        can = ", ".join(printable(name, 100) for name in sorted(workers)) or "none"
        return WorkerCheck(refusal=f"worker {worker!r} cannot run builder {builder!r}; "
                           f"the workers that can: {can}")
    if WORKER_PROPERTY not in client.force_fields():
        raise RestError(f"the force scheduler of {client.base} takes no worker choice "
                        "(its anybox_buildbot predates --worker); nothing was forced")
    if not workers[worker].get("connected_to"):
        return WorkerCheck(note=f"worker {worker!r} is not connected: the build waits for it")
    return WorkerCheck()


def _say(text: str) -> None:
    print(text, flush=True)


@dataclass
class Follower:
    """Follows one build request until its build ends; :meth:`run` gives
    the exit status (:func:`wait_exit_code`)."""

    client: Client
    builder: str
    brid: int
    worker: str | None = None
    log_lines: int = DEFAULT_LOG_LINES
    interval: float = 1.0
    verbose: bool = False
    say: Callable[[str], None] = _say
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _buildid: int | None = None
    _shown: set[int] = field(default_factory=set)
    _running: int | None = None
    _waiting: bool = False

    def run(self) -> int:
        start = self.clock()
        while True:
            request = self.client.buildrequest(self.brid)
            builds = self.client.builds_for_request(self.brid)
            build = max(builds, key=lambda b: b["buildid"]) if builds else None
            if build is None:
                if request["complete"]:
                    self.say("the request completed without a build (cancelled?)")
                    return 1
                if not self._waiting:
                    self._waiting = True
                    self.say(f"waiting for worker {self.worker}" if self.worker
                             else "waiting for a worker")
            else:
                if build["buildid"] != self._buildid:
                    self._started(build)
                # the build is read before its steps: once it is complete,
                # the steps read next are complete too
                self._steps(build)
                if build["complete"] and not (build["results"] == RETRY
                                              and not request["complete"]):
                    return self._ended(build, self.clock() - start)
            self.sleep(self.interval)

    def _started(self, build: dict[str, Any]) -> None:
        self._buildid, self._shown, self._running = build["buildid"], set(), None
        names = {w["workerid"]: w["name"] for w in self.client.workers()}
        where = printable(names.get(build.get("workerid"), "?"), 100)
        self.say(f"build {build['number']} of {self.builder} on {where}: "
                 + build_url(self.client.base, build["builderid"], build["number"]))

    def _steps(self, build: dict[str, Any]) -> None:
        steps = sorted(self.client.steps(build["buildid"]), key=lambda s: s["number"])
        for step in steps:
            if step["number"] in self._shown or step.get("hidden"):
                continue
            if step["complete"]:
                self._shown.add(step["number"])
                self.say(step_line(step))
            elif step.get("started_at") and self.verbose and self._running != step["number"]:
                self._running = step["number"]
                self.say(f"  step {step['number']} {printable(step['name'], 100)} ...")

    def _ended(self, build: dict[str, Any], elapsed: float) -> int:
        result = build["results"]
        self.say(f"build {build['number']} of {self.builder}: {result_word(result)} "
                 f"({printable(build['state_string'], 200)}) after {duration_text(elapsed)}")
        if result not in (SUCCESS, WARNINGS) and self.log_lines > 0:
            self._tail(build)
        return wait_exit_code(result)

    def _tail(self, build: dict[str, Any]) -> None:
        step = failed_step(self.client.steps(build["buildid"]))
        if step is None:
            return
        log = choose_log(self.client.step_logs(build["buildid"], step["number"]),
                         step["results"])
        where = f"step {step['number']} {printable(step['name'], 100)}"
        if log is None or not log.get("num_lines"):
            self.say(f"{where} wrote no log")
            return
        wanted = self.log_lines + (_HEADER_MARGIN if log["type"] == "s" else 0)
        content = self.client.log_lines(log["logid"], log["num_lines"] - wanted, wanted)
        lines = tail_lines(content, log["type"], self.log_lines)
        self.say(f"last {len(lines)} lines of {where} (log {printable(log['slug'], 100)}):")
        for line in lines:
            self.say("    " + line)


__all__ = ["DEFAULT_LOG_LINES", "Follower", "WORKER_PROPERTY", "WorkerCheck", "build_url",
           "check_worker", "printable", "step_line", "tail_lines", "wait_exit_code"]
