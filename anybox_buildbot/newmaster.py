"""``anybox-buildbot create-master``: a working master directory from nothing.

A pip user has no checkout and no ``examples/``: this makes the directory
Buildbot's own ``create-master`` makes (``buildbot.tac``, the database),
plus our files from the templates shipped in the package
(``anybox_buildbot/templates/``): a short ``master.cfg`` calling
``configure_from_buildouts``, a commented ``buildouts/MANIFEST.cfg`` with
one standalone buildout and its file, a commented ``workers.cfg`` with one
worker and a random password, and ``workers.cfg.sample``. ``anybox-buildbot
check`` is clean on the result and ``buildbot start`` runs it.

It never overwrites: when any of these files exists, nothing is written.
"""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from .confine import WORKER_NAME_RULE, worker_name_problem
from .restclient import BadUrlError, parse_master_url

#: Buildbot shows at most this many characters of the title (longer ones
#: make the master warn at every load).
MAX_TITLE = 18

#: Our files: (path in the master directory, template, mode).
OUR_FILES = (
    ("master.cfg", "master/master.cfg", 0o644),
    ("buildouts/MANIFEST.cfg", "master/MANIFEST.cfg", 0o644),
    ("buildouts/hello.cfg", "master/hello.cfg", 0o644),
    ("workers.cfg", "master/workers.cfg", 0o600),   # holds a password
    ("workers.cfg.sample", "workers.cfg.sample", 0o644),
)
#: Buildbot's files: an existing one means an existing master.
BUILDBOT_FILES = ("buildbot.tac", "state.sqlite")


class NewMasterError(Exception):
    """Why the directory was not made; ``exit_code`` 2 for a bad option."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class MasterSettings:
    """The first choices of a new master, checked."""

    directory: Path
    title: str
    web_port: int
    worker_port: int
    url: str
    worker: str

    @classmethod
    def from_options(cls, directory: str, *, title: str, web_port: int, worker_port: int,
                     url: str | None, worker: str) -> MasterSettings:
        """Check the options as given on the command line (usage errors: 2)."""
        def bad(message: str) -> NewMasterError:
            return NewMasterError(message, exit_code=2)

        if not title or len(title) > MAX_TITLE or not title.isprintable():
            raise bad(f"--title {title!r}: give 1 to {MAX_TITLE} printable characters "
                      "(the web UI shows no more)")
        if web_port == worker_port:
            raise bad(f"--web-port and --worker-port are both {web_port}: give two ports")
        problem = worker_name_problem(worker)
        if problem is not None:
            raise bad(f"--worker {worker!r}: {problem}; use {WORKER_NAME_RULE}")
        if url is None:
            url = f"http://localhost:{web_port}/"
        try:
            parsed = parse_master_url(url)
        except BadUrlError as exc:
            raise bad(f"--url: {exc}") from None
        if parsed.user is not None:
            raise bad("--url: no user or password in the web UI's address")
        return cls(Path(directory), title, web_port, worker_port, parsed.base + "/", worker)


def _template(name: str) -> str:
    return files("anybox_buildbot").joinpath("templates", name).read_text(encoding="utf-8")


def render(settings: MasterSettings, password: str) -> dict[str, str]:
    """``{relative path: text}`` of our files; Python values as literals."""
    values = {"title": repr(settings.title), "url": repr(settings.url),
              "web_port": str(settings.web_port), "worker_port": str(settings.worker_port),
              "worker": settings.worker, "password": password}
    return {path: string.Template(_template(template)).substitute(values)
            for path, template, _mode in OUR_FILES}


def _existing(directory: Path) -> list[str]:
    names = [*BUILDBOT_FILES, *(path for path, _t, _m in OUR_FILES)]
    return [name for name in names if os.path.lexists(directory / name)]


def _buildbot_create_master(directory: Path) -> None:
    """Buildbot's own ``create-master`` (``buildbot.tac``, database), run by
    this interpreter so that it is the Buildbot installed with us."""
    code = "import sys; from buildbot.scripts.runner import run; sys.exit(run())"
    proc = subprocess.run([sys.executable, "-c", code, "create-master", "--quiet",
                           "--relocatable", str(directory)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip().splitlines()
        raise NewMasterError(f"buildbot create-master {directory} failed "
                             f"(exit status {proc.returncode}): "
                             + (" / ".join(output[-3:]) or "no output"))


def create_master(settings: MasterSettings) -> str:
    """Make the directory; return what to tell the user (paths and next steps)."""
    directory = settings.directory
    if directory.exists() and not directory.is_dir():
        raise NewMasterError(f"{directory.absolute()} exists and is not a directory")
    existing = _existing(directory)
    if existing:
        raise NewMasterError(f"{directory.absolute()} already has {', '.join(existing)}: "
                             "nothing written (create-master never overwrites)")
    texts = render(settings, secrets.token_urlsafe(18))
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NewMasterError(f"cannot make {directory.absolute()}: {exc.strerror}") from None
    _buildbot_create_master(directory)
    for path, _template_name, mode in OUR_FILES:
        target = directory / path
        target.parent.mkdir(exist_ok=True)
        # "x": a file that appeared meanwhile is an error, never overwritten
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(texts[path])
    shown = str(directory)
    return "\n".join([
        f"created the master directory {shown}: Buildbot's files, and",
        f"  {shown}/master.cfg               the master's settings",
        f"  {shown}/buildouts/MANIFEST.cfg   what to build: one buildout, hello",
        f"  {shown}/buildouts/hello.cfg      its buildout file",
        f"  {shown}/workers.cfg              who builds: one worker, {settings.worker}, "
        "with a random password",
        f"  {shown}/workers.cfg.sample       every worker option, explained",
        "next:",
        f"  anybox-buildbot check {shown}",
        f"  buildbot start {shown}",
        f"  buildbot-worker create-worker WORKER_DIR localhost:{settings.worker_port} "
        f"{settings.worker} PASSWORD   (the password of {shown}/workers.cfg)",
        f"then the web UI is at {settings.url}",
    ])
