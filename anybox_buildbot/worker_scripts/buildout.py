"""Run ``bin/buildout`` beside other builds of the worker, sharing its caches.

Shipped to the worker by the master (FileDownload) and run with the
buildout's venv Python, which has zc.buildout. Standard library and
zc.buildout only.

Every builder of a worker shares one egg directory and one download cache
(``buildout-caches``). Most runs find every egg there and only read it;
they need no lock and run side by side. Only getting a missing egg writes
the caches, so only that is locked:

- zc.buildout already moves a finished egg into the egg directory with a
  rename (its answer to parallel buildouts, buildout issue 307), so a
  reader never sees half an egg. But two builds missing the same egg would
  both download and build it, and setuptools writes a downloaded archive
  *in place* in the download cache, where a second writer or a reader of
  the cache can meet it half-written.
- So this script runs zc.buildout in its own process and wraps the one
  method that fetches and installs a missing distribution
  (``Installer._get_dist``, the same in zc.buildout 2 to 6) with an
  exclusive ``flock`` on the caches. Having the lock, it looks at the egg
  directory again: a build that waited finds the egg the other one made
  and does not make it a second time. Download-cache archives of eggs are
  read and written only there, under the lock.

Why not "run offline first with a shared lock, then online alone": since
zc.buildout 5 an offline run does not find the eggs it installed itself
(they hold a ``.dist-info``, which the offline search does not read), so
every run would fall back to the exclusive lock.

Another zc.buildout: the wrapper reads a few of its internals (the
installer's ``_get_dist``, ``_satisfied``, ``_dest`` and ``_env``, the same
from zc.buildout 2.13 to 6). If they are missing or look different, it
does not guess: it holds the write lock for the whole run, which is what
the former per-worker lock did (safe, builds of the worker wait for each
other), and says so in the log. The same happens if they turn out
different only while the run uses them. A buildout restarting itself
(``subprocess.call`` of this script) runs under its parent's lock: the
child knows it from ``ANYBOX_BUILDOUT_LOCKED_BY``, set to the parent's
process id, and takes no lock of its own (taking it would wait forever).

A killed build: the kernel drops a ``flock`` when its process dies, so the
caches are never left locked. What a killed writer leaves is handled by a
journal: the writer writes ``.anybox-writing`` when it takes the lock and
removes it when the egg is in place. A writer that finds the journal knows
the last one died half-way and removes what it may have left unfinished:
download-cache files changed since the journal was written (a truncated
archive that every later build would try to unpack) and zc.buildout's
temporary folders in the egg directory. Finished eggs are kept.

``TMPDIR`` points into the caches, on their file system, so zc.buildout's
"download to a temporary file, then move" (recipe downloads) is a rename.

Usage: ``anybox-buildout.py --caches DIR -- venv/bin/buildout ARGS...``;
the exit status is buildout's.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import inspect
import os
import shutil
import sys
from collections.abc import Iterator

LOCK_FILE = ".anybox-write-lock"
JOURNAL = ".anybox-writing"
PREFIX = "anybox-buildout:"

#: Set by a run holding the write lock for its whole life, to its process id,
#: for a buildout restarting itself (a child of this process) to see.
LOCKED_BY_ENV = "ANYBOX_BUILDOUT_LOCKED_BY"

_held = 0   # nesting depth: a second flock() of this process on a new fd would wait forever
_whole_run_fd: int | None = None   # the lock held until this process ends


@contextlib.contextmanager
def write_lock(caches: str) -> Iterator[bool]:
    """Hold the exclusive write lock of ``caches``; yields whether this call
    took it (False when an outer call of this process holds it)."""
    global _held
    if _held:
        _held += 1
        try:
            yield False
        finally:
            _held -= 1
        return
    fd = os.open(os.path.join(caches, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _held = 1
        try:
            yield True
        finally:
            _held = 0
    finally:
        os.close(fd)  # closing drops the lock


def under_parent_lock() -> bool:
    """Whether this process is a buildout restarting itself under its
    parent's whole-run lock (the parent waits for it, holding the lock)."""
    return os.environ.get(LOCKED_BY_ENV) == str(os.getppid())


def hold_for_whole_run(caches: str, why: str) -> None:
    """Take the write lock until this process ends (the kernel drops it then).

    The fallback when zc.buildout's internals are not the ones this script
    wraps: builds of the worker then wait for each other, as with the former
    per-worker lock, but never write the caches at the same time.
    """
    global _held, _whole_run_fd
    if _whole_run_fd is not None:
        return
    _held += 1          # write_lock() calls of this process are now nested ones
    if under_parent_lock():
        print(f"{PREFIX} {why}: running under the write lock of the run that started "
              "this one", flush=True)
        _whole_run_fd = -1
        return
    print(f"{PREFIX} {why}; holding the worker caches' write lock for the whole run "
          "(other builds of this worker wait for it)", flush=True)
    fd = os.open(os.path.join(caches, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    _whole_run_fd = fd
    os.environ[LOCKED_BY_ENV] = str(os.getpid())
    recover(caches)
    write_journal(caches)


def finish_whole_run(caches: str, code: int) -> None:
    """The run held the lock throughout and ended by itself: its writes are
    whole unless it failed (then the next writer cleans, to be safe)."""
    if _whole_run_fd is not None and _whole_run_fd >= 0 and code == 0:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(caches, JOURNAL))


def _parameters(function: object) -> list[str]:
    try:
        return list(inspect.signature(function).parameters)   # type: ignore[arg-type]
    except (TypeError, ValueError):
        return []


def internals_problem(easy_install: object) -> str | None:
    """What differs in zc.buildout's installer from what this script wraps,
    or None when it has the methods and attributes, with the parameters,
    that ``lock_egg_writes`` uses."""
    installer = getattr(easy_install, "Installer", None)
    if not isinstance(installer, type):
        return "zc.buildout.easy_install has no Installer class"
    expected = {"_get_dist": ["self", "requirement", "ws"], "_satisfied": ["self", "req"]}
    for name, first in expected.items():
        method = getattr(installer, name, None)
        if not callable(method):
            return f"its Installer has no {name} method"
        if _parameters(method)[:len(first)] != first:
            return f"its Installer.{name} takes other parameters"
    init = getattr(installer.__init__, "__code__", None)
    missing = [a for a in ("_dest", "_env") if init is None or a not in init.co_names]
    if missing:
        return f"its Installer does not set {' or '.join(missing)}"
    return None


def changed_since(folder: str, stamp: int) -> list[str]:
    """Files under ``folder`` whose inode changed at or after ``stamp`` (ns).

    The change time, not the modification time: ``shutil.copy2`` gives a
    copy it is writing right now the old modification time of its source.
    """
    found = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            try:
                if os.lstat(path).st_ctime_ns >= stamp:
                    found.append(path)
            except OSError:
                pass
    return found


def recover(caches: str) -> None:
    """Remove what a writer that did not finish may have left half-written.

    Called with the write lock held, so no other build is writing.
    """
    journal = os.path.join(caches, JOURNAL)
    try:
        stamp = os.stat(journal).st_mtime_ns
    except FileNotFoundError:
        return
    print(f"{PREFIX} the last build writing the caches did not finish; removing what it "
          "may have left half-written", flush=True)
    for path in changed_since(os.path.join(caches, "downloads"), stamp):
        print(f"{PREFIX} removing {os.path.relpath(path, caches)}", flush=True)
        os.unlink(path)
    for root, dirs, _files in os.walk(os.path.join(caches, "eggs")):
        for name in list(dirs):
            # zc.buildout's mkdtemp(dir=eggs): 'tmp' + 8 characters
            if name.startswith("tmp") and not name.endswith(".egg"):
                print(f"{PREFIX} removing {os.path.relpath(os.path.join(root, name), caches)}",
                      flush=True)
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
                dirs.remove(name)
        dirs[:] = [d for d in dirs if not d.endswith(".egg")]  # eggs are whole


def write_journal(caches: str) -> None:
    path = os.path.join(caches, JOURNAL)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"pid {os.getpid()}\n")
    os.utime(path)   # the stamp recover() compares change times with


def lock_egg_writes(caches: str) -> None:
    """Wrap zc.buildout's ``Installer._get_dist`` with the write lock, or
    hold the lock for the whole run when zc.buildout is not the one known."""
    try:
        from zc.buildout import easy_install
    except ImportError as exc:
        hold_for_whole_run(caches, f"cannot read zc.buildout's installer ({exc})")
        return
    problem = internals_problem(easy_install)
    if problem is not None:
        hold_for_whole_run(caches, f"zc.buildout {_version()} is not the one this script "
                           f"knows: {problem}")
        return

    installer = easy_install.Installer
    original = installer._get_dist

    def rescan(self) -> None:
        """See the eggs other builds installed while this one waited."""
        again = getattr(self, "_env_rescan_dest", None)   # zc.buildout >= 2.13
        if again is not None:
            again()
        elif self._dest is not None:
            self._env.scan([self._dest])

    def missing(self, requirement) -> bool:
        """Whether getting ``requirement`` writes the caches; an installer
        that is not what it seemed makes the rest of the run hold the lock."""
        if _whole_run_fd is not None:
            return False
        try:
            return self._dest is not None and self._satisfied(requirement)[0] is None
        except (AttributeError, TypeError, IndexError, KeyError) as exc:
            hold_for_whole_run(caches, f"zc.buildout's installer is not the one this "
                               f"script knows ({type(exc).__name__}: {exc})")
            return False

    def locked_get_dist(self, requirement, ws, *args, **kwargs):
        if not missing(self, requirement):
            return original(self, requirement, ws, *args, **kwargs)   # nothing to write
        print(f"{PREFIX} {requirement} is not in the worker caches: taking their "
              "write lock", flush=True)
        with write_lock(caches) as outer:
            if not outer:
                return original(self, requirement, ws, *args, **kwargs)
            recover(caches)   # a writer killed during this run (rare)
            rescan(self)
            if self._satisfied(requirement)[0] is not None:
                print(f"{PREFIX} another build put {requirement} in the worker caches "
                      "meanwhile: using it", flush=True)
                return original(self, requirement, ws, *args, **kwargs)
            write_journal(caches)
            try:
                return original(self, requirement, ws, *args, **kwargs)
            finally:   # a failed download too: only a killed writer leaves it
                os.unlink(os.path.join(caches, JOURNAL))

    installer._get_dist = locked_get_dist


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("zc.buildout")
    except Exception:   # noqa: BLE001  (metadata missing or unreadable: only for the log)
        return "(version unknown)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--caches", required=True, help="the worker's buildout-caches")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="-- then the buildout program and its arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no buildout command given")
    caches = args.caches
    for sub in ("eggs", "downloads", "tmp"):
        os.makedirs(os.path.join(caches, sub), exist_ok=True)
    os.environ["TMPDIR"] = os.path.abspath(os.path.join(caches, "tmp"))
    # A buildout that restarts itself (a new zc.buildout) reruns sys.argv,
    # this script with the same arguments: the lock stays in place.
    if under_parent_lock():
        hold_for_whole_run(caches, "zc.buildout restarted itself")
    elif os.path.exists(os.path.join(caches, JOURNAL)):
        # before zc.buildout lists the download cache, or it would pick the
        # half-written archive the cleaning removes
        with write_lock(caches):
            recover(caches)
    lock_egg_writes(caches)
    try:
        from zc.buildout.buildout import main as buildout_main
    except ImportError as exc:
        print(f"{PREFIX} cannot run zc.buildout: {exc}", file=sys.stderr, flush=True)
        return 1
    code = 1
    try:
        code = buildout_main(command[1:]) or 0
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
        raise
    finally:
        finish_whole_run(caches, code)
    return code


if __name__ == "__main__":
    sys.exit(main())
