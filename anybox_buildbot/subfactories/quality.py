"""Quality step sets: ``static-analysis``, ``sphinx-doc``, ``packaging``,
``autocommit``.

Same rules as the test step sets (see :mod:`.testing`): argument lists,
never a shell; options checked at configuration time with their manifest
line; commands run in the buildout's folder with the build environment.
What needs more than one program call (building both distributions,
committing and pushing) is a small standard-library worker script shipped
by the master (``worker_scripts/sf_*.py``), so no shell is ever needed to
chain commands.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildbot.interfaces import IRenderable
from buildbot.plugins import steps, util
from buildbot.process import buildstep
from buildbot.process.results import SUCCESS, WARNINGS
from twisted.internet import defer, threads
from zope.interface import implementer

from ..factory import SCRIPTS_DIR, ship
from ..steps.capabilities import PYTHON_PROPERTY
from . import StepContext, StepSet
from .options import OptionReader
from .testing import master_base, safe_name

#: ``path:line:column: message``, what ruff (concise) and flake8 print per warning.
WARNING_LINE = r"^[^\s:][^:]*:\d+:\d+: "
TOOLS = ("ruff", "flake8")
DOCS_DIR = "docs"
#: The HTML a ``sphinx-doc`` build may send to the master, as the
#: uncompressed tar stream of its build folder (so the unpacked files are
#: no larger): a build writing gigabytes must not fill the master's disk.
#: More fails ``upload-docs``, and nothing is published.
DOCS_MAX_BYTES = 256 * 1024 * 1024
_BRANCH = re.compile(r"(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/@+-]+(?<![./])(?<!\.lock)")
_AUTHOR = re.compile(r"(?P<name>[^<>\n]+?)\s*<(?P<email>[^<>\s]+)>")
DEFAULT_AUTHOR = "buildbot <buildbot@localhost>"
DEFAULT_MESSAGE = "Automatic commit from buildbot"
#: Publications run in threads of the master; two builders of one buildout
#: may finish together, and each swap of folders must be whole.
_PUBLISH_LOCK = threading.Lock()


def no_failure_so_far(step: buildstep.BuildStep) -> bool:
    """``doStepIf``: the build has neither failed nor been halted so far
    (warnings are fine: a lint warning must not stop an autocommit)."""
    return step.build.results in (SUCCESS, WARNINGS)


# --------------------------------------------------------------------------- #
# static-analysis
# --------------------------------------------------------------------------- #

class CountWarnings(steps.WarningCountingShellCommand):
    """Run a linter and count its ``path:line:col:`` lines.

    Exit codes 0 and 1 are both "ran fine" (linters exit 1 when they found
    something); the verdict comes from the count: WARNINGS at or below
    ``maxWarnCount``, FAILURE above it; any other exit code (the tool
    crashed, bad option) is a FAILURE whatever the count. The count is
    the build property ``static_analysis_warnings``.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("warningPattern", WARNING_LINE)
        kwargs.setdefault("decodeRC", {0: SUCCESS, 1: SUCCESS})
        kwargs.setdefault("warnOnWarnings", True)   # the build shows them too
        super().__init__(**kwargs)

    @defer.inlineCallbacks
    def createSummary(self):  # type: ignore[override]
        yield super().createSummary()
        self.setProperty("static_analysis_warnings", self.warnCount, "static-analysis",
                         runtime=True)
        limit = "" if self.maxWarnCount is None else f" (max {self.maxWarnCount})"
        self.descriptionDone = [f"{self.warnCount} warnings{limit}"]


def static_analysis_steps(options: Mapping[str, str], context: StepContext) -> StepSet:
    """ruff or flake8 on the configured paths, warnings counted.

    Options: ``tool`` (``ruff``, default, or ``flake8``), ``command``
    (default ``ruff`` from PATH, ``bin/flake8`` for flake8), ``args``,
    ``paths`` (default ``.``), ``max-warnings`` (above it the step fails;
    default: no limit, warnings only warn).
    """
    read = OptionReader("static-analysis", options, context)
    tool = read.choice("tool", TOOLS, "ruff")
    command = read.command("command", ("ruff",) if tool == "ruff" else ("bin/flake8",))
    args = read.argv("args")
    paths = read.paths("paths", (".",)) or (".",)
    limit = read.integer("max-warnings", None)
    if tool == "ruff":
        argv = [*command, "check", "--no-cache", "--output-format=concise", *args, *paths]
    else:
        argv = [*command, *args, *paths]
    return StepSet(steps=[CountWarnings(
        name="static-analysis", command=argv, maxWarnCount=limit, workdir=context.workdir,
        env=context.env, haltOnFailure=False, description=[tool],
        descriptionDone=[tool])])


static_analysis_steps.options = frozenset(  # type: ignore[attr-defined]
    {"tool", "command", "args", "paths", "max-warnings"})


# --------------------------------------------------------------------------- #
# sphinx-doc
# --------------------------------------------------------------------------- #

@implementer(IRenderable)
@dataclass(frozen=True)
class IncomingPath:
    """Where a build uploads its HTML before it is published: a folder of
    its own, so a half-finished upload never shows, and two builders of one
    buildout never write into the same folder at the same time."""

    base: str
    name: str

    def getRenderingFor(self, props: Any) -> str:
        builder = safe_name(str(props.getProperty("buildername", "builder")))
        number = safe_name(str(props.getProperty("buildnumber", 0)))
        return str(Path(self.base) / ".incoming" / f"{self.name}-{builder}-{number}")


def publish_directory(source: str, target: str) -> None:
    """Replace ``target`` by ``source`` (both on the master).

    Uploaded files are private (0600) by default; documentation is meant to
    be served, so the tree is made world-readable. The old tree is moved
    aside before the new one is moved in: the folder is never half new.
    """
    src, dst = Path(source), Path(target)
    if not src.is_dir():
        raise FileNotFoundError(f"nothing was uploaded to {src}")
    for root, dirs, files in os.walk(src):
        os.chmod(root, 0o755)
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    old = src.parent / f"{src.name}.old-{time.monotonic_ns()}"
    with _PUBLISH_LOCK:
        if dst.exists():
            os.rename(dst, old)
        os.rename(src, dst)
    shutil.rmtree(old, ignore_errors=True)


class PublishDirectory(buildstep.BuildStep):
    """Master-side step: move an uploaded folder to its public place and
    record that place as a build property."""

    renderables = ["source"]

    def __init__(self, source: Any = None, target: str = "", prop: str = "docs_dir",
                 **kwargs: Any) -> None:
        kwargs.setdefault("haltOnFailure", True)
        super().__init__(**kwargs)
        self.source = source
        self.target = target
        self.prop = prop

    async def run(self) -> int:
        await threads.deferToThread(publish_directory, self.source, self.target)
        self.setProperty(self.prop, self.target, "PublishDirectory", runtime=True)
        await self.addCompleteLog("published", f"{self.target}\n")
        self.descriptionDone = ["published", os.path.basename(self.target)]
        return SUCCESS


def sphinx_doc_steps(options: Mapping[str, str], context: StepContext) -> StepSet:
    """Build HTML documentation and publish it on the master, in
    ``<master>/docs/<buildout>/`` (property ``docs_dir``).

    Options: ``source`` (default ``doc``), ``build-dir`` (default
    ``_build/html``, inside the buildout's folder), ``command`` (default
    ``bin/sphinx-build``), ``args`` (extra sphinx-build arguments).
    """
    read = OptionReader("sphinx-doc", options, context)
    command = read.command("command", ("bin/sphinx-build",))
    args = read.argv("args")
    source = read.path("source", "doc")
    build_dir = read.relative_dir("build-dir", "_build/html")
    name = safe_name(context.buildout.name)
    docs = master_base(context, DOCS_DIR)
    incoming = IncomingPath(docs, name)
    workdir, env = context.workdir, context.env
    return StepSet(steps=[
        steps.ShellCommand(name="sphinx-doc", command=[*command, "-b", "html", *args, source,
                                                       build_dir],
                           workdir=workdir, env=env, haltOnFailure=True,
                           description=["sphinx-build"], descriptionDone=["sphinx-build"]),
        steps.DirectoryUpload(name="upload-docs", workersrc=build_dir, masterdest=incoming,
                              workdir=workdir, maxsize=DOCS_MAX_BYTES, haltOnFailure=True),
        PublishDirectory(name="publish-docs", source=incoming, target=f"{docs}/{name}"),
    ])


sphinx_doc_steps.options = frozenset(  # type: ignore[attr-defined]
    {"source", "build-dir", "command", "args"})


# --------------------------------------------------------------------------- #
# packaging
# --------------------------------------------------------------------------- #

BUILDERS = ("pep517", "build", "setup.py")


def packaging_steps(options: Mapping[str, str], context: StepContext) -> StepSet:
    """Build an sdist and a wheel into an emptied ``dist-dir``, then
    optionally run an upload command with the built files appended.

    Options: ``path`` (project folder, default ``.``), ``dist-dir``
    (default ``dist``), ``python`` (default ``venv/bin/python``, the
    bootstrap venv, which has setuptools and wheel), ``builder``
    (``pep517``: the project's build backend called in that Python, no
    network; ``build``: ``python -m build``; ``setup.py``), and
    ``upload-command`` (e.g. ``bin/twine upload -r internal``).
    """
    read = OptionReader("packaging", options, context)
    path = read.path("path", ".")
    dist = read.relative_dir("dist-dir", "dist")
    python = read.command("python", ("venv/bin/python",))
    builder = read.choice("builder", BUILDERS, "pep517")
    upload = read.argv("upload-command")
    if "upload-command" in options and not upload:
        read.error("upload-command", "empty command",
                   hint="remove the option or give e.g. bin/twine upload")
    workdir, env = context.workdir, context.env
    script = "anybox-sf_package.py"
    result: list = [
        ship("sf_package.py", workdir),
        steps.ShellCommand(name="packaging", command=[
            *python, script, "build", f"--builder={builder}", f"--path={path}",
            f"--dist-dir={dist}"], workdir=workdir, env=env, haltOnFailure=True,
            description=["packaging"], descriptionDone=["sdist", "wheel"]),
    ]
    if upload:
        result.append(steps.ShellCommand(
            name="upload-dist", command=[*python, script, "upload", f"--dist-dir={dist}", "--",
                                         *upload],
            workdir=workdir, env=env, haltOnFailure=True, description=["uploading"],
            descriptionDone=["uploaded"]))
    return StepSet(steps=result)


packaging_steps.options = frozenset(  # type: ignore[attr-defined]
    {"path", "dist-dir", "python", "builder", "upload-command"})


# --------------------------------------------------------------------------- #
# autocommit
# --------------------------------------------------------------------------- #

def autocommit_steps(options: Mapping[str, str], context: StepContext) -> StepSet:
    """When nothing failed so far, commit ``path`` and push the commit to
    the buildout's own repository (git kinds only).

    Options: ``path`` (required, relative to the buildout's folder),
    ``message``, ``branch`` (default: the buildout's branch; required for
    ``gittag``), ``author`` (``Name <email>``). Nothing to commit is a
    success; a rejected push is a failure.
    """
    read = OptionReader("autocommit", options, context)
    spec = context.buildout
    source = spec.source
    if source.vcs != "git":
        context.errors.add(source.location, f"autocommit needs a git buildout, not "
                           f"{source.kind!r}", hint="remove autocommit from the step sets "
                           "or build from git", subject=f"buildout [{spec.name}]")
    path = read.path("path", "")
    if "path" not in options:
        read.error("path", "autocommit needs autocommit.path",
                   hint="the file or folder to commit, e.g. autocommit.path = generated")
    message = read.raw("message")
    if message is not None and not message:
        read.error("message", "empty commit message")
    message = message or DEFAULT_MESSAGE
    branch = read.text("branch", source.branch)
    if branch is not None and not _BRANCH.fullmatch(branch):
        read.error("branch", "invalid branch name", branch, hint="e.g. ci-results")
        branch = None
    if branch is None and source.vcs == "git" and "branch" not in options:
        read.error("branch", f"a {source.kind!r} buildout has no branch to push to",
                   hint="give autocommit.branch")
    author = read.text("author", DEFAULT_AUTHOR) or DEFAULT_AUTHOR
    match = _AUTHOR.fullmatch(author)
    if match is None:
        read.error("author", "expected 'Name <email>'", author,
                   hint=f"e.g. {DEFAULT_AUTHOR}")
        match = _AUTHOR.fullmatch(DEFAULT_AUTHOR)
        assert match is not None
    workdir = context.workdir
    return StepSet(steps=[
        steps.FileDownload(name="ship-sf_autocommit.py",
                           mastersrc=f"{SCRIPTS_DIR}/sf_autocommit.py",
                           workerdest="anybox-sf_autocommit.py", workdir=workdir,
                           doStepIf=no_failure_so_far, haltOnFailure=True),
        steps.ShellCommand(name="autocommit", command=[
            util.Property(PYTHON_PROPERTY, default="python3"), "anybox-sf_autocommit.py",
            f"--path={path}", f"--branch={branch or ''}", f"--url={source.url or ''}",
            f"--author-name={match['name']}", f"--author-email={match['email']}",
            f"--message={message}"],
            workdir=workdir, env=context.env, doStepIf=no_failure_so_far,
            haltOnFailure=False, description=["committing", path],
            descriptionDone=["autocommit", path]),
    ])


autocommit_steps.options = frozenset(  # type: ignore[attr-defined]
    {"path", "message", "branch", "author"})

STEP_SETS: dict[str, Callable[[Mapping[str, str], StepContext], StepSet]] = {
    "static-analysis": static_analysis_steps,
    "sphinx-doc": sphinx_doc_steps,
    "packaging": packaging_steps,
    "autocommit": autocommit_steps,
}
