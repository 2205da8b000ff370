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
import os
import shutil
import sys
from collections.abc import Iterator

LOCK_FILE = ".anybox-write-lock"
JOURNAL = ".anybox-writing"
PREFIX = "anybox-buildout:"

_held = 0   # nesting depth: a second flock() of this process on a new fd would wait forever


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
    """Wrap zc.buildout's ``Installer._get_dist`` with the write lock."""
    from zc.buildout import easy_install

    installer = easy_install.Installer
    original = installer._get_dist

    def rescan(self) -> None:
        """See the eggs other builds installed while this one waited."""
        again = getattr(self, "_env_rescan_dest", None)   # zc.buildout >= 5
        if again is not None:
            again()
        elif self._dest is not None:
            self._env.scan([self._dest])

    def locked_get_dist(self, requirement, ws, *args, **kwargs):
        if self._dest is None or self._satisfied(requirement)[0] is not None:
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
    if os.path.exists(os.path.join(caches, JOURNAL)):
        # before zc.buildout lists the download cache, or it would pick the
        # half-written archive the cleaning removes
        with write_lock(caches):
            recover(caches)
    lock_egg_writes(caches)
    from zc.buildout.buildout import main as buildout_main
    return buildout_main(command[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
