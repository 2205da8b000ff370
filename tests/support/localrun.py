"""Run real Buildbot masters, workers and PostgreSQL clusters on loopback.

Why this module exists: the end-to-end tests and the ``make demo`` script both
need *real* processes (a master answering REST, a worker running shell steps, a
PostgreSQL server the steps talk to).  Mocks would not catch what matters here
(ports, config loading, worker connection, environment of steps), so this module
starts the genuine programs, waits for them with explicit readiness checks, and
makes sure every process it started is gone afterwards.

Design rules:

* Everything listens on 127.0.0.1 only, on ports picked by :func:`free_port`.
  Ports are chosen when a :class:`Master` is *constructed*, so the caller can
  write them into ``master.cfg`` before anything starts.
* Masters and workers run in the foreground (``--nodaemon``) as children of this
  Python process: no pid files to trust, ``SIGTERM`` to our own child stops them.
* Every object that may leave something behind registers itself; :func:`stop_all`
  (also run by :mod:`atexit`) stops it.  On Linux, masters and workers also get
  ``PR_SET_PDEATHSIG`` so they die with us even if we are ``SIGKILL``-ed.
* Commands never go through a shell: argument lists only.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import getpass
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self, TypeVar

from anybox_buildbot.restclient import Client, RestError

__all__ = [
    "LOOPBACK",
    "Master",
    "MasterStartError",
    "PgCluster",
    "PgNotFoundError",
    "ProcessStartError",
    "Rest",
    "RestError",
    "Worker",
    "buildbot_executable",
    "find_pg_bin_dir",
    "free_port",
    "install_sigterm_handler",
    "src_layout_pyproject",
    "write_recipe",
    "stop_all",
    "wait_for",
]

LOOPBACK = "127.0.0.1"

#: Give masters/workers ``PR_SET_PDEATHSIG`` (Linux): they get SIGTERM when the
#: thread that started them exits.  Set to False before starting anything if you
#: start processes from short-lived threads.
DIE_WITH_PARENT = True

T = TypeVar("T")

# --------------------------------------------------------------------------- #
# small helpers
# --------------------------------------------------------------------------- #

_handed_out_ports: set[int] = set()
_ports_lock = threading.Lock()


def src_layout_pyproject(name: str, version: str) -> str:
    """The ``pyproject.toml`` of a setuptools project with its packages
    under ``src/`` (the shape of today's projects: no setup.py)."""
    return textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name}"
        version = "{version}"

        [tool.setuptools.packages.find]
        where = ["src"]
        """)


def write_recipe(folder: Path, package: str, code: str) -> Path:
    """A zc.buildout recipe distribution ``package`` (its ``default`` entry
    point is ``package:Recipe``, defined by ``code``) in ``folder``, for a
    buildout's ``develop`` line; returns ``folder``."""
    (folder / package).mkdir(parents=True)
    (folder / "setup.py").write_text(
        "from setuptools import setup\n"
        f"setup(name={package!r}, version='1.0', packages=[{package!r}],\n"
        f"      entry_points={{'zc.buildout': ['default = {package}:Recipe']}})\n")
    (folder / package / "__init__.py").write_text(code)
    return folder


def _port_share() -> tuple[int, int]:
    """(this process's index, number of processes) under pytest-xdist, else (0, 1)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if worker.startswith("gw") and worker[2:].isdigit() and count > 1:
        return int(worker[2:]) % count, count
    return 0, 1


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now.

    The kernel picks it (bind to port 0).  A port is never returned twice by one
    process, so a master's pb and www ports cannot collide even though nothing
    keeps them reserved between this call and the master binding them.  Under
    pytest-xdist each test process keeps only the ports of its own residue
    class (port modulo the number of processes), so two processes never hand
    out the same port either.  (Classes of ``port // 2``: Linux gives
    ``bind`` odd ports only, so ``port`` itself would leave one class empty.)
    """
    share, count = _port_share()
    with _ports_lock:
        for _ in range(100 * count):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind((LOOPBACK, 0))
                port: int = sock.getsockname()[1]
            if (port // 2) % count == share and port not in _handed_out_ports:
                _handed_out_ports.add(port)
                return port
    raise RuntimeError("could not find a free TCP port on 127.0.0.1")


def wait_for(
    predicate: Callable[[], T | None],
    timeout: float,
    interval: float = 0.1,
    what: str = "condition",
    diagnostics: Callable[[], str] | None = None,
) -> T:
    """Call ``predicate`` until it returns something truthy, and return that.

    Polling with a deadline is how every readiness check here works, so the
    error must say *what* we were waiting for (``what``) and, when given, the
    output of ``diagnostics()`` (typically a log tail).  Exceptions raised by
    the predicate propagate at once: that is how callers fail fast.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            message = f"timed out after {timeout:g}s waiting for {what}"
            if diagnostics is not None:
                message += "\n" + diagnostics()
            raise TimeoutError(message)
        time.sleep(interval)


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _read_text(path: Path, offset: int = 0) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie (a zombie has stopped serving)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux) or it vanished meanwhile: trust kill()
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def buildbot_executable(name: str) -> Path:
    """Find ``buildbot``/``buildbot-worker`` of *this* environment.

    The scripts next to ``sys.executable`` are preferred so that the processes
    run the same buildbot version (and our package) as the caller, whatever
    ``PATH`` says; ``PATH`` is only the fallback.
    """
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(
        f"{name!r} not found next to {sys.executable} nor on PATH; "
        "install the package (make install)"
    )


def _run(
    argv: Sequence[str | os.PathLike[str]],
    timeout: float = 120.0,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a short command, stdout+stderr merged, never raising on rc."""
    return subprocess.run(
        [os.fspath(a) for a in argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=timeout,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        check=False,
    )


def _run_checked(
    argv: Sequence[str | os.PathLike[str]],
    what: str,
    timeout: float = 120.0,
    env: Mapping[str, str] | None = None,
) -> str:
    proc = _run(argv, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise ProcessStartError(
            f"{what} failed (rc={proc.returncode}): {' '.join(map(str, argv))}\n"
            f"{_tail(proc.stdout)}"
        )
    return proc.stdout


def _set_pdeathsig() -> None:
    """preexec_fn: ask Linux to SIGTERM the child when its parent goes away."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 == PR_SET_PDEATHSIG
    except Exception:  # best effort: never block the start
        pass


# --------------------------------------------------------------------------- #
# registry of things to clean up
# --------------------------------------------------------------------------- #


class _Closable(Protocol):
    def close(self) -> None: ...


_LIVE: list[_Closable] = []
_live_lock = threading.Lock()


def _register(obj: _Closable) -> None:
    with _live_lock:
        if obj not in _LIVE:
            _LIVE.append(obj)


def _unregister(obj: _Closable) -> None:
    with _live_lock:
        if obj in _LIVE:
            _LIVE.remove(obj)


def stop_all() -> None:
    """Stop every master, worker and cluster this process created.

    Newest first, so workers go before their master and the master before the
    database it may use.  Errors are reported on stderr and do not prevent the
    remaining objects from being stopped.
    """
    while True:
        with _live_lock:
            if not _LIVE:
                return
            obj = _LIVE.pop()
        try:
            obj.close()
        except Exception as exc:  # keep cleaning up the rest
            print(f"localrun: error while stopping {obj!r}: {exc}", file=sys.stderr)


atexit.register(stop_all)


def install_sigterm_handler() -> None:
    """Turn SIGTERM into KeyboardInterrupt so cleanup code runs.

    By default SIGTERM kills Python without running ``atexit`` or fixture
    teardown, which would orphan the PostgreSQL server (it is daemonized by
    ``pg_ctl``).  Only installed when nobody set a handler already.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def _handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"received signal {signum}")

    signal.signal(signal.SIGTERM, _handler)


# --------------------------------------------------------------------------- #
# masters and workers
# --------------------------------------------------------------------------- #


class ProcessStartError(RuntimeError):
    """A command or process we launched failed; the message holds its output."""


class MasterStartError(ProcessStartError):
    """The master exited or logged ``BuildMaster startup failed``."""


class _Closing:
    """Stop-and-forget for everything this module starts.

    Entering the context starts nothing (call ``start()``); leaving it, or
    :func:`stop_all`, stops the process and runs ``cleanup()``.
    """

    def stop(self) -> object:
        raise NotImplementedError

    def cleanup(self) -> None:
        """Remove what ``stop`` leaves behind (nothing by default)."""

    def close(self) -> None:
        try:
            self.stop()
            self.cleanup()
        finally:
            _unregister(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _TwistdProcess(_Closing):
    """Common part of masters and workers: a foreground twistd child.

    ``--nodaemon`` keeps the process we spawn as the real server (no fork, no
    pid file), logs still go to ``<basedir>/twistd.log``; our readiness checks
    read only the part of the log written since *our* start, so a basedir can
    be restarted without old lines fooling us.
    """

    kind = "process"
    console_name = "localrun-console.log"

    def __init__(self, basedir: Path | str, env: Mapping[str, str] | None = None) -> None:
        self.basedir = Path(basedir).absolute()
        #: Extra environment variables, layered over ``os.environ`` (not a
        #: replacement: the processes still need PATH, HOME...).
        self.extra_env: dict[str, str] = dict(env or {})
        self._proc: subprocess.Popen[bytes] | None = None
        self._console: IO[bytes] | None = None
        self._log_offset = 0
        self._console_offset = 0
        _register(self)

    @property
    def env(self) -> dict[str, str]:
        """The full environment given to this object's commands and process."""
        return {**os.environ, **self.extra_env}

    # -- state --------------------------------------------------------------
    @property
    def log_path(self) -> Path:
        return self.basedir / "twistd.log"

    @property
    def console_path(self) -> Path:
        """stdout/stderr of the child (import errors end up here, not in twistd.log)."""
        return self.basedir / self.console_name

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_text(self, since_start: bool = False) -> str:
        """Content of twistd.log (only what this run wrote if ``since_start``).

        twistd rotates the log at 1 MB; a file shorter than our start offset
        was rotated, and then all of it is new.
        """
        offset = self._log_offset if since_start else 0
        if offset > _file_size(self.log_path):
            offset = 0
        return _read_text(self.log_path, offset)

    def diagnostics(self) -> str:
        """The tails of what this run wrote to twistd.log and the console:
        what a failed wait prints."""
        console = _read_text(self.console_path, self._console_offset).strip()
        text = f"--- {self.log_path} (tail) ---\n{_tail(self.log_text(since_start=True))}"
        if console:
            text += f"\n--- {self.console_path} (tail) ---\n{_tail(console)}"
        return text

    # -- lifecycle ----------------------------------------------------------
    def _spawn(self, argv: Sequence[str | os.PathLike[str]]) -> subprocess.Popen[bytes]:
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        self._log_offset = _file_size(self.log_path)
        self._console_offset = _file_size(self.console_path)
        self._console = self.console_path.open("ab")
        use_pdeathsig = DIE_WITH_PARENT and sys.platform.startswith("linux")
        self._proc = subprocess.Popen(
            [os.fspath(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=self._console,
            stderr=subprocess.STDOUT,
            cwd=self.basedir,
            env=self.env,
            preexec_fn=_set_pdeathsig if use_pdeathsig else None,
        )
        _register(self)
        return self._proc

    def _wait_log(self, ok: str, failures: Sequence[str], timeout: float) -> None:
        """Wait for ``ok`` in the new log lines; fail fast on exit or ``failures``."""
        proc = self._proc
        assert proc is not None

        def ready() -> bool:
            text = self.log_text(since_start=True)
            if ok in text:
                return True
            bad = next((f for f in failures if f in text), None)
            rc = proc.poll()
            if bad is not None or rc is not None:
                reason = f"logged {bad!r}" if bad is not None else f"exited with rc={rc}"
                self.stop()
                raise self._start_error(
                    f"{self.kind} in {self.basedir} {reason} before {ok!r}\n" + self.diagnostics()
                )
            return False

        try:
            wait_for(
                ready,
                timeout,
                interval=0.05,
                what=f"{ok!r} in {self.log_path}",
                diagnostics=self.diagnostics,
            )
        except TimeoutError:
            self.stop()
            raise

    def _start_error(self, message: str) -> ProcessStartError:
        return ProcessStartError(message)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL.  Returns the exit code."""
        proc, self._proc = self._proc, None
        rc: int | None = None
        if proc is not None:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    proc.wait(10)
            rc = proc.returncode
        if self._console is not None:
            self._console.close()
            self._console = None
        self._after_stop()
        return rc

    def _after_stop(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.basedir} pid={self.pid}>"


class Master(_TwistdProcess):
    """A real ``buildbot`` master on 127.0.0.1.

    Typical use (ports are known before the config is written)::

        with Master(tmp / 'master') as m:
            m.write_config(render(pb=m.pb_endpoint, www=m.www_endpoint, url=m.url))
            m.create()
            m.start()
            m.rest.force(['b1'])

    ``env`` holds extra environment variables (over ``os.environ``) for the
    master and its commands, e.g. to let master.cfg read a port.
    """

    kind = "master"

    def __init__(
        self,
        basedir: Path | str,
        master_cfg_text: str | None = None,
        *,
        pb_port: int | None = None,
        www_port: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(basedir, env)
        self.pb_port = pb_port if pb_port is not None else free_port()
        self.www_port = www_port if www_port is not None else free_port()
        self._wrote_pidfile = False
        self.workers: dict[str, Worker] = {}  # filled by running_master()
        if master_cfg_text is not None:
            self.write_config(master_cfg_text)

    # -- values to put in master.cfg ------------------------------------------
    @property
    def url(self) -> str:
        """``buildbotURL`` (with the trailing slash buildbot wants)."""
        return f"http://{LOOPBACK}:{self.www_port}/"

    @property
    def api_url(self) -> str:
        return f"{self.url}api/v2"

    @property
    def pb_endpoint(self) -> str:
        """Value for ``c['protocols']['pb']['port']``: loopback only."""
        return f"tcp:{self.pb_port}:interface={LOOPBACK}"

    @property
    def www_endpoint(self) -> str:
        """Value for ``c['www']['port']``: loopback only."""
        return f"tcp:{self.www_port}:interface={LOOPBACK}"

    @property
    def config_path(self) -> Path:
        return self.basedir / "master.cfg"

    @property
    def rest(self) -> Rest:
        return Rest(self.url)

    # -- commands -------------------------------------------------------------
    def write_config(self, text: str) -> Path:
        """Write ``master.cfg`` (create-master never writes it)."""
        self.basedir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(text, encoding="utf-8")
        return self.config_path

    def create(self, db_url: str | None = None) -> str:
        """``buildbot create-master -r``: buildbot.tac and an upgraded database.

        ``db_url`` is passed as ``--db`` (default ``sqlite:///state.sqlite``);
        it must match ``c['db']`` of master.cfg unless that is in-memory.
        """
        self.basedir.parent.mkdir(parents=True, exist_ok=True)
        argv: list[str | os.PathLike[str]] = [buildbot_executable("buildbot"), "create-master"]
        argv.append("-r")
        if db_url is not None:
            argv.append(f"--db={db_url}")
        argv.append(self.basedir)
        return _run_checked(argv, "buildbot create-master", env=self.env)

    def checkconfig(self) -> tuple[int, str]:
        """``buildbot checkconfig``: (rc, merged output)."""
        proc = _run([buildbot_executable("buildbot"), "checkconfig", self.basedir], env=self.env)
        return proc.returncode, proc.stdout

    def start(self, timeout: float = 60.0) -> None:
        """Start in the foreground and wait for ``BuildMaster is running``.

        Fails fast (with the log tail) when the process exits or logs
        ``BuildMaster startup failed``.  Also writes ``twistd.pid``: nodaemon
        mode writes none, but ``buildbot reconfig``/``stop`` need it.
        """
        if not (self.basedir / "buildbot.tac").is_file():
            raise MasterStartError(f"{self.basedir}/buildbot.tac missing: call create() first")
        if not self.config_path.is_file():
            raise MasterStartError(f"{self.config_path} missing: call write_config() first")
        proc = self._spawn([buildbot_executable("buildbot"), "start", "--nodaemon", self.basedir])
        self._wait_log(
            "BuildMaster is running",
            ["BuildMaster startup failed"],
            timeout,
        )
        (self.basedir / "twistd.pid").write_text(f"{proc.pid}\n", encoding="ascii")
        self._wrote_pidfile = True

    def _start_error(self, message: str) -> ProcessStartError:
        return MasterStartError(message)

    def reconfig(self, timeout: float = 60.0) -> tuple[int, str]:
        """``buildbot reconfig`` (SIGHUP + log watch): (rc, merged output).

        rc 1 means the new config was rejected and the master kept the old one.
        """
        if not self.running:
            raise RuntimeError(f"{self!r} is not running")
        proc = _run(
            [buildbot_executable("buildbot"), "reconfig", self.basedir],
            timeout=timeout,
            env=self.env,
        )
        return proc.returncode, proc.stdout

    def stored_watch_report(self, buildout: str,
                            db_url: str = "sqlite:///state.sqlite") -> str | None:
        """The auto-watch report a build stored for ``buildout`` in the
        master's database (as the masters read it), or None."""
        from anybox_buildbot.sharedstate import read_stored_reports

        stored, problem = read_stored_reports(db_url, self.basedir)
        assert problem is None, problem
        report = stored.get(buildout)
        return report.raw.decode("utf-8") if report is not None else None

    def _after_stop(self) -> None:
        if self._wrote_pidfile:
            with contextlib.suppress(FileNotFoundError):
                (self.basedir / "twistd.pid").unlink()
            self._wrote_pidfile = False


class Worker(_TwistdProcess):
    """A real ``buildbot-worker`` connecting to ``127.0.0.1:master_port``.

    ``start()`` only waits until the worker process is up; whether it is
    *connected* is the master's view: use :meth:`Rest.wait_worker_connected`
    (then :meth:`wait_attached`).  ``env``: extra variables over ``os.environ``,
    inherited by every step the worker runs.
    """

    kind = "worker"

    def __init__(
        self,
        basedir: Path | str,
        name: str,
        password: str,
        master_port: int,
        *,
        master_host: str = LOOPBACK,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(basedir, env)
        self.name = name
        self.password = password
        self.master_port = master_port
        self.master_host = master_host

    def create(self, *extra_args: str) -> str:
        """``buildbot-worker create-worker -r`` (``extra_args`` e.g. ``--umask=0o22``).

        The parent directory is created first: create-worker only makes the last
        level and otherwise fails with a bare "failed to configure worker in .".
        """
        self.basedir.parent.mkdir(parents=True, exist_ok=True)
        output = _run_checked(
            [
                buildbot_executable("buildbot-worker"),
                "create-worker",
                "-r",
                *extra_args,
                self.basedir,
                f"{self.master_host}:{self.master_port}",
                self.name,
                self.password,
            ],
            "buildbot-worker create-worker",
            env=self.env,
        )
        self._write_info()
        return output

    def _write_info(self) -> None:
        """Real ``info/admin`` and ``info/host`` instead of create-worker's
        placeholders: the web UI's Workers page and the Fleet page show them."""
        info = self.basedir / "info"
        info.mkdir(exist_ok=True)
        (info / "admin").write_text(f"anybox_buildbot local run ({getpass.getuser()})\n")
        (info / "host").write_text(f"{platform.node()}: {platform.system()} "
                                   f"{platform.release()}, Python {platform.python_version()}\n")

    def start(self, timeout: float = 30.0) -> None:
        """Start in the foreground; wait until twistd logs ``Starting Worker``."""
        if not (self.basedir / "buildbot.tac").is_file():
            raise ProcessStartError(f"{self.basedir}/buildbot.tac missing: call create() first")
        self._spawn([buildbot_executable("buildbot-worker"), "start", "--nodaemon", self.basedir])
        self._wait_log("Starting Worker", [], timeout)

    def wait_attached(self, timeout: float = 30.0) -> None:
        """Wait until the master finished attaching this worker to a builder.

        REST's ``connected_to`` is set at the *start* of the master's attach
        sequence; the worker logs ``message from master: attached`` at its end,
        once per builder.  Stopping a worker in between can leave the master
        waiting forever for the disconnection at shutdown (seen once: its stop
        then needed SIGKILL), so fixtures wait for this too.  Never happens for
        a worker that no builder uses.
        """
        if self._proc is None:
            raise RuntimeError(f"{self!r} is not started")
        proc = self._proc

        def attached() -> bool:
            if "message from master: attached" in self.log_text(since_start=True):
                return True
            if proc.poll() is not None:
                raise ProcessStartError(
                    f"worker {self.name} exited (rc={proc.returncode})\n" + self.diagnostics()
                )
            return False

        wait_for(
            attached,
            timeout,
            interval=0.05,
            what=f"worker {self.name} to be attached to a builder",
            diagnostics=self.diagnostics,
        )


# --------------------------------------------------------------------------- #
# PostgreSQL
# --------------------------------------------------------------------------- #


class PgNotFoundError(RuntimeError):
    """No PostgreSQL server binaries (initdb/pg_ctl/postgres) on this machine."""


def _version_key(name: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return None


def find_pg_bin_dir() -> Path:
    """Directory holding initdb, pg_ctl and postgres.

    Order: ``$ANYBOX_BUILDBOT_PG_BIN``, the highest ``/usr/lib/postgresql/*/bin``
    (Debian puts server binaries there, off PATH), then ``initdb`` on PATH
    (symlinks resolved, so the sibling ``pg_ctl`` is found).
    """
    override = os.environ.get("ANYBOX_BUILDBOT_PG_BIN")
    if override:
        path = Path(override)
        if not (path / "initdb").is_file():
            raise PgNotFoundError(f"ANYBOX_BUILDBOT_PG_BIN={override} has no initdb")
        return path
    versions: list[tuple[tuple[int, ...], Path]] = []
    for initdb in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        key = _version_key(initdb.parent.parent.name)
        if key is not None and (initdb.parent / "pg_ctl").is_file():
            versions.append((key, initdb.parent))
    if versions:
        return max(versions)[1]
    found = shutil.which("initdb")
    if found:
        bin_dir = Path(found).resolve().parent
        if (bin_dir / "pg_ctl").is_file():
            return bin_dir
    raise PgNotFoundError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin "
        "nor on PATH: run `make sysdeps` (tools/sysdeps.sh) to install them"
    )


def pg_server_version(bin_dir: Path) -> str:
    """Major version of the server in ``bin_dir``: '15', or '9.6' before v10."""
    out = _run_checked([bin_dir / "postgres", "--version"], "postgres --version", timeout=30)
    match = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?", out)
    if match is None:
        raise PgNotFoundError(f"cannot parse `postgres --version` output: {out!r}")
    major, minor = match.group(1), match.group(2)
    return major if int(major) >= 10 or minor is None else f"{major}.{minor}"


class PgCluster(_Closing):
    """A throwaway PostgreSQL cluster in a temp dir, on a free port.

    Why it looks like this:

    * Tests run as root, and the server refuses to run as root, so ``initdb`` and
      ``pg_ctl`` run as the ``postgres`` system user (``runuser``) and the
      directories are chowned to it.  As a non-root user everything just runs
      as that user.
    * The server listens on 127.0.0.1 and on a unix socket in ``<tmp>/sock``
      (mode 0755 so root clients can connect); ``host`` is that socket dir, so
      ``psql -h HOST -p PORT`` and ``PGHOST``/``PGPORT`` work.
    * Authentication is ``trust`` (a throwaway cluster nobody else can reach)
      and a login role named after the current OS user, with CREATEDB, is made:
      clients need no password and no ``-U``.
    """

    superuser_name = "postgres"

    def __init__(
        self,
        *,
        port: int | None = None,
        bin_dir: Path | str | None = None,
        workdir: Path | str | None = None,
        role_superuser: bool = False,
    ) -> None:
        self.bin_dir = Path(bin_dir) if bin_dir is not None else find_pg_bin_dir()
        self.version = pg_server_version(self.bin_dir)
        self.port = port if port is not None else free_port()
        self.user = getpass.getuser()
        self.role_superuser = role_superuser
        self._own_workdir = workdir is None
        if workdir is None:
            # Under /tmp, not pytest's tmp_path: the postgres user must be able to
            # traverse every parent directory, and unix socket paths are short.
            self.workdir = Path(tempfile.mkdtemp(prefix="anybox-pg-"))
        else:
            self.workdir = Path(workdir).absolute()
            self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.socket_dir = self.workdir / "sock"
        self.log_path = self.workdir / "postgresql.log"
        self._as_root = os.geteuid() == 0
        _register(self)

    # -- connection values ----------------------------------------------------
    @property
    def host(self) -> str:
        """The unix socket directory (what ``psql -h`` / ``PGHOST`` take)."""
        return str(self.socket_dir)

    @property
    def env(self) -> dict[str, str]:
        """``PGHOST``/``PGPORT`` for steps and subprocesses."""
        return {"PGHOST": self.host, "PGPORT": str(self.port)}

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq key/value DSN (psycopg2.connect(dsn))."""
        return f"host={self.host} port={self.port} dbname={dbname}"

    def sqlalchemy_url(self, dbname: str) -> str:
        """URL for e.g. a master's ``c['db']['db_url']`` (socket, no password)."""
        query = urllib.parse.urlencode({"host": self.host, "port": self.port})
        return f"postgresql+psycopg2://{urllib.parse.quote(self.user)}@/{dbname}?{query}"

    @property
    def running(self) -> bool:
        pid = self.postmaster_pid
        return pid is not None and _pid_alive(pid)

    @property
    def postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
        except (FileNotFoundError, PermissionError):
            return None
        return int(first) if first.strip().isdigit() else None

    # -- lifecycle ------------------------------------------------------------
    def _as_postgres(self, argv: Sequence[str | os.PathLike[str]]) -> list[str]:
        cmd = [os.fspath(a) for a in argv]
        if self._as_root:
            return ["runuser", "-u", self.superuser_name, "--", *cmd]
        return cmd

    def _chown(self, path: Path) -> None:
        if self._as_root:
            shutil.chown(path, user=self.superuser_name, group=None)

    def _prepare_dirs(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)
        self._chown(self.workdir)
        for path, mode in ((self.data_dir, 0o700), (self.socket_dir, 0o755)):
            path.mkdir(exist_ok=True)
            path.chmod(mode)
            self._chown(path)
        if self._as_root:
            probe = _run(self._as_postgres(["test", "-w", self.socket_dir]), timeout=30)
            if probe.returncode != 0:
                raise PgNotFoundError(
                    f"the postgres user cannot write to {self.socket_dir}: every parent "
                    f"directory of {self.workdir} must be traversable by it"
                )

    def _initdb(self) -> None:
        _run_checked(
            self._as_postgres(
                [
                    self.bin_dir / "initdb",
                    "-D",
                    self.data_dir,
                    "-U",
                    self.superuser_name,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            ),
            "initdb",
        )
        socket_dir = self.host.replace("'", "''")
        settings = (
            "\n# localrun: throwaway test cluster\n"
            f"port = {self.port}\n"
            f"listen_addresses = '{LOOPBACK}'\n"
            f"unix_socket_directories = '{socket_dir}'\n"
            "fsync = off\n"
            "synchronous_commit = off\n"
            "full_page_writes = off\n"
        )
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(settings)

    def start(self, timeout: float = 60.0) -> None:
        """initdb (first time), ``pg_ctl start -w``, then create the client role."""
        if self.running:
            return
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        if self._as_root:
            self.log_path.touch()
            self._chown(self.log_path)
        proc = _run(
            self._as_postgres(
                [
                    self.bin_dir / "pg_ctl",
                    "-D",
                    self.data_dir,
                    "-l",
                    self.log_path,
                    "-w",
                    "-t",
                    str(int(timeout)),
                    "start",
                ]
            ),
            timeout=timeout + 30,
        )
        if proc.returncode != 0:
            self.stop()
            raise ProcessStartError(
                f"pg_ctl start failed (rc={proc.returncode}) for {self.data_dir}\n"
                f"{_tail(proc.stdout)}\n--- {self.log_path} (tail) ---\n"
                f"{_tail(_read_text(self.log_path))}"
            )
        _register(self)
        self._ensure_role()

    def _ensure_role(self) -> None:
        if self.user == self.superuser_name:
            return
        import psycopg2  # type: ignore[import-untyped]
        from psycopg2 import sql

        conn = psycopg2.connect(
            host=self.host, port=self.port, user=self.superuser_name, dbname="postgres"
        )
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (self.user,))
                if cur.fetchone() is None:
                    options = "LOGIN CREATEDB" + (" SUPERUSER" if self.role_superuser else "")
                    cur.execute(
                        sql.SQL("CREATE ROLE {} " + options).format(sql.Identifier(self.user))
                    )
        finally:
            conn.close()

    def psql(self, command: str, dbname: str = "postgres") -> str:
        """Run one SQL command with this cluster's psql as the current user (``-XAt``)."""
        return _run_checked(
            [
                self.bin_dir / "psql",
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-d",
                dbname,
                "-c",
                command,
            ],
            "psql",
            timeout=60,
        ).strip()

    def stop(self, timeout: float = 30.0) -> None:
        """``pg_ctl stop -m fast``; escalate to immediate, then SIGKILL."""
        pid = self.postmaster_pid
        if pid is None or not _pid_alive(pid):
            return
        for mode in ("fast", "immediate"):
            with contextlib.suppress(subprocess.TimeoutExpired):
                _run(
                    self._as_postgres(
                        [
                            self.bin_dir / "pg_ctl",
                            "-D",
                            self.data_dir,
                            "-m",
                            mode,
                            "-w",
                            "-t",
                            str(int(timeout)),
                            "stop",
                        ]
                    ),
                    timeout=timeout + 10,
                )
            if not _pid_alive(pid):
                return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def cleanup(self) -> None:
        """Remove the temp dir (only when we created it)."""
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __repr__(self) -> str:
        return f"<PgCluster {self.version} port={self.port} dir={self.workdir}>"


# --------------------------------------------------------------------------- #
# REST
# --------------------------------------------------------------------------- #


class Rest(Client):
    """The command line's REST client, plus the waits tests need.

    Accepts the master URL (``http://127.0.0.1:PORT/``) or the API URL.
    Every request and its error messages are the client's
    (:mod:`anybox_buildbot.restclient`): there is one REST client.
    """

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        super().__init__(url, timeout=timeout)

    def wait_worker_connected(self, name: str, timeout: float = 30.0) -> dict[str, Any]:
        """Wait until the master lists ``name`` as connected; return the worker dict."""

        def connected() -> dict[str, Any] | None:
            worker = self.worker(name)
            return worker if worker and worker.get("connected_to") else None

        return wait_for(
            connected,
            timeout,
            interval=0.2,
            what=f"worker {name!r} to connect ({self.base})",
        )

    def wait_build(self, brid: int, timeout: float = 60.0) -> dict[str, Any]:
        """Wait until build request ``brid`` is complete; return its (last) build.

        Raises :class:`RestError` if the request completed without any build
        (e.g. cancelled before a worker took it).
        """
        last_state: list[str] = ["no build yet"]

        def finished() -> dict[str, Any] | None:
            request = self.buildrequest(brid)
            builds = self.builds_for_request(brid)
            if builds:
                latest = max(builds, key=lambda b: b["buildid"])
                last_state[0] = f"build {latest['buildid']}: {latest.get('state_string')!r}"
                if request["complete"] and latest["complete"]:
                    return latest
            elif request["complete"]:
                raise RestError(
                    f"buildrequest {brid} completed (results={request['results']}) without a build"
                )
            return None

        return wait_for(
            finished,
            timeout,
            interval=0.2,
            what=f"buildrequest {brid} to finish",
            diagnostics=lambda: f"last seen: {last_state[0]}",
        )


# --------------------------------------------------------------------------- #
# A whole local setup
# --------------------------------------------------------------------------- #

SIMPLE_MASTER_CFG = """\
from anybox_buildbot import configure_from_buildouts
{imports}
c = BuildmasterConfig = {{
    'buildbotNetUsageData': None,
    'title': 'anybox local',
    'buildbotURL': '{url}',
    'protocols': {{'pb': {{'port': '{pb}'}}}},
    'www': {{'port': '{www}', 'plugins': {{}}{www_extra}}},
    'db': {{'db_url': 'sqlite:///state.sqlite'}},
}}
{setup}configure_from_buildouts(basedir, c{kwargs})
"""


def simple_master_cfg(master: Master, kwargs: str = "", www_extra: str = "",
                      imports: str = "", setup: str = "") -> str:
    """A master.cfg calling ``configure_from_buildouts`` on this master's ports.

    ``kwargs`` is appended to the call (e.g. ``", poll_interval=2"``),
    ``www_extra`` to the ``www`` dict (e.g. auth settings), ``imports`` goes
    first and ``setup`` (lines ending in a newline) right before the call.
    """
    return SIMPLE_MASTER_CFG.format(url=master.url, pb=master.pb_endpoint,
                                    www=master.www_endpoint, kwargs=kwargs,
                                    www_extra=www_extra, imports=imports, setup=setup)


@contextlib.contextmanager
def running_master(master_dir: Path, workers: Mapping[str, str], master_cfg=simple_master_cfg,
                   worker_root: Path | None = None, env: Mapping[str, str] | None = None):
    """Create and start the master in ``master_dir`` (which already holds its
    manifests and workers.cfg) and one worker per ``{name: password}``;
    yield the master once every worker is attached (``master.workers`` maps
    their names to them); stop everything after.

    ``master_cfg`` maps the Master (whose ports are known) to master.cfg text;
    ``env`` is added to the master's environment.
    """
    master = Master(master_dir, env=env)
    master.write_config(master_cfg(master))
    started: list[Worker] = []
    try:
        master.create()
        master.start()
        for name, password in workers.items():
            worker = Worker((worker_root or master_dir.parent) / name, name, password,
                            master.pb_port)
            started.append(worker)
            master.workers[name] = worker
            worker.create()
            worker.start()
        for worker in started:
            master.rest.wait_worker_connected(worker.name, 30)
            worker.wait_attached(30)
        yield master
    finally:
        for worker in started:
            worker.close()
        master.close()
