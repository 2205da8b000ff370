"""Quality step sets: ``static-analysis``, ``sphinx-doc``, ``packaging``,
``autocommit``.

Same rules as the test step sets (see :mod:`.testing`): argument lists,
never a shell; options declared as schemas and checked when the manifest is
loaded, with their line; commands run in the buildout's folder with the
build environment. What needs more than one program call (building both
distributions, committing and pushing) is a small standard-library worker
script shipped by the master (``worker_scripts/sf_*.py``), so no shell is
ever needed to chain commands. The step classes are in :mod:`..steps`
(``lint``, ``publish``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from buildbot.plugins import steps, util

from ..rules import RuleError, is_mail_sender
from ..stepoptions import (
    Arguments,
    Choice,
    Command,
    Folder,
    Number,
    Option,
    OptionKey,
    Paths,
    Problem,
    Raw,
    Schema,
    SinglePath,
    Text,
)
from ..steps.capabilities import PYTHON_PROPERTY
from ..steps.common import SCRIPTS_DIR, no_failure_so_far, ship
from ..steps.lint import CountWarnings
from ..steps.publish import IncomingPath, PublishDirectory, safe_name
from . import StepContext, StepSet
from .testing import master_base

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


# --------------------------------------------------------------------------- #
# static-analysis
# --------------------------------------------------------------------------- #

def static_analysis_steps(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """ruff or flake8 on the configured paths, warnings counted.

    Options: ``tool`` (``ruff``, default, or ``flake8``), ``command``
    (default ``ruff`` from PATH, ``bin/flake8`` for flake8), ``args``,
    ``paths`` (default ``.``), ``max-warnings`` (above it the step fails;
    default: no limit, warnings only warn).
    """
    tool, args = options["tool"], options["args"]
    command = options["command"] or (("ruff",) if tool == "ruff" else ("bin/flake8",))
    paths = options["paths"] or (".",)
    if tool == "ruff":
        argv = [*command, "check", "--no-cache", "--output-format=concise", *args, *paths]
    else:
        argv = [*command, *args, *paths]
    return StepSet(steps=[CountWarnings(
        name="static-analysis", command=argv, maxWarnCount=options["max-warnings"],
        workdir=context.workdir, env=context.env, haltOnFailure=False, description=[tool],
        descriptionDone=[tool])])


static_analysis_steps.schema = Schema(  # type: ignore[attr-defined]
    Option("tool", Choice(*TOOLS), default="ruff", doc="ruff or flake8"),
    Option("command", Command(example="ruff"), default=None,
           doc="the program (default: ruff from PATH, bin/flake8 for flake8)"),
    Option("args", Arguments(), default=(), doc="extra arguments"),
    Option("paths", Paths(), default=(".",), doc="what to check"),
    Option("max-warnings", Number(), default=None, hint="e.g. static-analysis.max-warnings = 20",
           doc="above this number of warnings the step fails"),
)


# --------------------------------------------------------------------------- #
# sphinx-doc
# --------------------------------------------------------------------------- #

def sphinx_doc_steps(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """Build HTML documentation and publish it on the master, in
    ``<master>/docs/<buildout>/`` (property ``docs_dir``).

    Options: ``source`` (default ``doc``), ``build-dir`` (default
    ``_build/html``, inside the buildout's folder), ``command`` (default
    ``bin/sphinx-build``), ``args`` (extra sphinx-build arguments).
    """
    command, args = options["command"], options["args"]
    source, build_dir = options["source"], options["build-dir"]
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


sphinx_doc_steps.schema = Schema(  # type: ignore[attr-defined]
    Option("source", SinglePath(), default="doc", doc="the folder holding conf.py"),
    Option("build-dir", Folder(), default="_build/html",
           doc="where the HTML is built, inside the buildout's folder"),
    Option("command", Command(), default=("bin/sphinx-build",), doc="the program"),
    Option("args", Arguments(), default=(), doc="extra sphinx-build arguments"),
)


# --------------------------------------------------------------------------- #
# packaging
# --------------------------------------------------------------------------- #

BUILDERS = ("pep517", "build", "setup.py")


def packaging_steps(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """Build an sdist and a wheel into an emptied ``dist-dir``, then
    optionally run an upload command with the built files appended.

    Options: ``path`` (project folder, default ``.``), ``dist-dir``
    (default ``dist``), ``python`` (default ``venv/bin/python``, the
    bootstrap venv, which has setuptools and wheel), ``builder``
    (``pep517``: the project's build backend called in that Python, no
    network; ``build``: ``python -m build``; ``setup.py``), and
    ``upload-command`` (e.g. ``bin/twine upload -r internal``).
    """
    path, dist, python = options["path"], options["dist-dir"], options["python"]
    builder, upload = options["builder"], options["upload-command"]
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


packaging_steps.schema = Schema(  # type: ignore[attr-defined]
    Option("path", SinglePath(), default=".", doc="the project folder"),
    Option("dist-dir", Folder(), default="dist", doc="emptied, then gets the files"),
    Option("python", Command(), default=("venv/bin/python",), doc="the interpreter"),
    Option("builder", Choice(*BUILDERS), default="pep517", doc="pep517, build or setup.py"),
    Option("upload-command", Command(example="bin/twine upload"), default=(),
           doc="run with the built files appended"),
)


# --------------------------------------------------------------------------- #
# autocommit
# --------------------------------------------------------------------------- #

@dataclass(frozen=True)
class Author(Text):
    """``Name <email>``: a (name, email) pair."""

    def parse(self, text: str, key: OptionKey) -> tuple[str, str]:
        match = _AUTHOR.fullmatch(super().parse(text, key))
        if match is None or not is_mail_sender(match["email"]):
            raise RuleError("expected 'Name <email>'", hint=f"e.g. {DEFAULT_AUTHOR}")
        return match["name"], match["email"]


@dataclass(frozen=True)
class Message(Raw):
    """Non-empty text; continuation lines make more lines."""

    def parse(self, text: str, key: OptionKey) -> str:
        if not text.strip():
            raise RuleError("empty commit message", hint=f"remove {key} or give a message")
        return text.strip()


def _is_branch(value: str) -> str | None:
    return None if _BRANCH.fullmatch(value) else "invalid branch name"


def _autocommit_check(options: Mapping[str, Any], buildout: Any) -> Iterator[Problem]:
    source = buildout.source
    if source.vcs != "git":
        yield Problem(f"autocommit needs a git buildout, not {source.kind!r}",
                      hint="remove autocommit from the step sets or build from git",
                      location=source.location)
    elif options["branch"] is None and source.branch is None:
        yield Problem(f"a {source.kind!r} buildout has no branch to push to", "branch",
                      hint="give autocommit.branch")


def autocommit_steps(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """When nothing failed so far, commit ``path`` and push the commit to
    the buildout's own repository (git kinds only).

    Options: ``path`` (required, relative to the buildout's folder),
    ``message``, ``branch`` (default: the buildout's branch; required for
    ``gittag``), ``author`` (``Name <email>``). Nothing to commit is a
    success; a rejected push is a failure.
    """
    source = context.buildout.source
    path, message = options["path"], options["message"]
    branch = options["branch"] or source.branch
    name, email = options["author"]
    workdir = context.workdir
    return StepSet(steps=[
        steps.FileDownload(name="ship-sf_autocommit.py",
                           mastersrc=f"{SCRIPTS_DIR}/sf_autocommit.py",
                           workerdest="anybox-sf_autocommit.py", workdir=workdir,
                           doStepIf=no_failure_so_far, haltOnFailure=True),
        steps.ShellCommand(name="autocommit", command=[
            util.Property(PYTHON_PROPERTY, default="python3"), "anybox-sf_autocommit.py",
            f"--path={path}", f"--branch={branch or ''}", f"--url={source.url or ''}",
            f"--author-name={name}", f"--author-email={email}", f"--message={message}"],
            workdir=workdir, env=context.env, doStepIf=no_failure_so_far,
            haltOnFailure=False, description=["committing", path],
            descriptionDone=["autocommit", path]),
    ])


autocommit_steps.schema = Schema(  # type: ignore[attr-defined]
    Option("path", SinglePath(), required=True,
           hint="the file or folder to commit, e.g. autocommit.path = generated",
           doc="the file or folder to commit"),
    Option("message", Message(), default=DEFAULT_MESSAGE, doc="the commit message"),
    Option("branch", Text(), default=None, check=_is_branch, hint="e.g. ci-results",
           doc="the branch to push to (default: the buildout's)"),
    Option("author", Author(), default=tuple(DEFAULT_AUTHOR[:-1].split(" <")),
           doc="Name <email>"),
    check=_autocommit_check,
)

STEP_SETS: dict[str, Callable[[Mapping[str, Any], StepContext], StepSet]] = {
    "static-analysis": static_analysis_steps,
    "sphinx-doc": sphinx_doc_steps,
    "packaging": packaging_steps,
    "autocommit": autocommit_steps,
}
