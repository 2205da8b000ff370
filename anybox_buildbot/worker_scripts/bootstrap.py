"""Bootstrap a buildout on a worker: a venv with the wanted zc.buildout.

Shipped to the worker by the master (FileDownload) and run with the
interpreter chosen by the ``python`` capability. Standard library only.

Wheels are kept in a cache shared by all builders of the worker, so a
package is downloaded once per worker, and a venv that already holds the
right zc.buildout is reused as is. What happened is printed in one line the
tests (and humans) can rely on.

``--require SPEC`` (repeated: the manifest's ``bootstrap-packages``)
installs more packages into the venv, with zc.buildout and from the same
wheel cache. The marker records them: a venv whose recorded list differs
from the wanted one is made again, so it holds exactly what is asked
(a package taken out of the list leaves the venv too).

zc.buildout 3, 4 and 5.0 import ``pkg_resources`` (3 and 4.0 also
``setuptools.package_index``) without bounding setuptools, and the
setuptools releases from 80 (package_index) and 81 (pkg_resources) on no
longer ship them. A venv of Python 3.11 comes with an old setuptools, one
of Python 3.12 and later with none, so pip would pick the newest and
``bin/buildout`` would not start. So the bound such a release needs
(``setuptools_bound``) joins the requirements, in the same pip run as
zc.buildout (download and install), and in the marker like the others: a
venv made before the bound existed is made again. A ``bootstrap-packages``
naming setuptools itself wins: then no bound is added.
zc.buildout 2 runs on no Python from 3.12 on, whatever the bound: it is
refused there before anything is made (``python_problem``).

A venv is reused only if it is known to be whole: a marker file is written
into it last, once the venv is made and zc.buildout installed, and removed
before the venv is changed. A venv without the marker (a bootstrap killed
or out of disk half-way), whose Python does not run or whose pip does not
run is removed and made again, so no one has to clean a worker by hand.

Builds of one worker bootstrap side by side. Installing from the wheel
cache only reads it; a download writes it, so downloads take an exclusive
``flock`` on the cache (dropped by the kernel if the build is killed) and
go to a temporary folder of the cache first: a wheel enters the cache by
a rename, whole, and a killed download leaves no truncated wheel there.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile

MARKER = ".anybox-bootstrap-complete"

#: The setuptools zc.buildout releases need to run, by (major, minor)
#: version, ``None`` for any minor: measured with Python 3.12 venvs
#: (docs/decisions.rst, 2026-11-30). 3.x and 4.0 import
#: setuptools.package_index (gone in 80), 4.1 and 5.0 pkg_resources (gone
#: in 81); 4.x takes the lower bound as a whole, as 3.x does (4.2 bounds
#: setuptools itself, and runs with 79 too). Releases not here need no
#: bound: 5.1 and later bound setuptools themselves or run with the newest;
#: no bound makes 2.x run on Python 3.12 (``python_problem``).
SETUPTOOLS_BOUNDS = {(3, None): "setuptools<80", (4, None): "setuptools<80",
                     (5, 0): "setuptools<81"}
PROBE_TIMEOUT = 120  # seconds for ``python -m pip --version``; it takes about one


def release(version: str) -> tuple[int, int] | None:
    """(major, minor) of a version text (``3``, ``3.3``, ``4.1.12``,
    ``5.0.0b1``, ``5.0b1``), or None for a text that does not start with a
    version number: pip says what is wrong with it, not this script."""
    # Both numbers whole (a minor is never cut short: 5.1-1 is 5.1), then
    # what may follow a release segment: more of it, a pre-, post- or
    # dev-release, a local label. Case does not matter to pip (5RC1).
    match = re.match(r"([0-9]+)(?:\.([0-9]+))?(?=$|[.a-z+-])", version.strip().lower())
    if match is None or len(match.group(1)) > 6 or len(match.group(2) or "") > 6:
        return None   # no 5000-digit number is turned into an int
    return int(match.group(1)), int(match.group(2) or 0)  # pip: 5 is 5.0


def setuptools_bound(version: str) -> str | None:
    """The setuptools requirement zc.buildout ``version`` needs next to it,
    or None (a release that needs none, or a text ``release`` cannot read)."""
    found = release(version)
    if found is None:
        return None
    major, minor = found
    return SETUPTOOLS_BOUNDS.get((major, None), SETUPTOOLS_BOUNDS.get((major, minor)))


def python_problem(version: str, python: tuple[int, ...]) -> str | None:
    """Why zc.buildout ``version`` cannot run on Python ``python``
    (``sys.version_info``), with the two ways out, or None.

    zc.buildout 2 imports ``distutils`` and asks for a setuptools older
    than 52; Python 3.12 has neither (no bound or package repairs that,
    docs/decisions.rst). Said before a venv is made or anything
    downloaded: otherwise the build fails later, in ``bin/buildout``, on
    an import error that names neither zc.buildout's version nor Python's.
    """
    found = release(version)
    if found is None or found[0] != 2 or tuple(python[:2]) < (3, 12):
        return None
    running = ".".join(str(n) for n in python[:3])
    return (f"zc.buildout {version} does not run on Python {running} (zc.buildout 2 "
            "needs distutils and a setuptools older than 52, both gone from Python 3.12); "
            "fix: a zc.buildout of 3 or later in the manifest (buildout-version), or a "
            "worker Python of 3.11 or older (build-requires = python < 3.12)")


def names_setuptools(requirement: str) -> bool:
    """Whether a pip requirement is about setuptools (PEP 503 names:
    ``Setuptools``, ``setuptools>=60``, ``setuptools [core]``)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return match is not None and re.sub(r"[-_.]+", "-",
                                        match.group(1)).lower() == "setuptools"


def wanted_requirements(version: str, extra: list[str]) -> list[str]:
    """What goes into the venv with zc.buildout ``version``, sorted as the
    marker records it: ``extra`` (the manifest's ``bootstrap-packages``)
    and the setuptools bound the release needs, unless ``extra`` names
    setuptools already (the manifest wins)."""
    wanted = set(extra)
    bound = setuptools_bound(version)
    if bound is not None and not any(names_setuptools(r) for r in wanted):
        wanted.add(bound)
    return sorted(wanted)


def venv_python(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def same_interpreter(venv: str) -> bool:
    """Whether the venv was made by this interpreter (version may differ)."""
    cfg = os.path.join(venv, "pyvenv.cfg")
    if not os.path.isfile(cfg):
        return False
    wanted = "{}.{}".format(*sys.version_info[:2])
    with open(cfg, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            key, _, value = line.partition("=")
            if key.strip() in ("version", "version_info"):
                return value.strip().startswith(wanted)
    return False


#: Run by a venv's Python to answer both questions a reused venv raises in
#: one interpreter start: its zc.buildout version (first line, empty if
#: none), then whether its pip runs (``pip --version``, exactly as ``python
#: -m pip --version`` runs it; its status is the probe's).
PROBE = ("import runpy, sys\n"
         "try:\n"
         "    import importlib.metadata as m\n"
         "    found = m.version('zc.buildout') or ''\n"
         "except Exception:\n"
         "    found = ''\n"
         "print('zc.buildout ' + found, flush=True)\n"
         "sys.argv = ['pip', '--version']\n"
         "runpy.run_module('pip', run_name='__main__', alter_sys=True)\n")
PROBE_HEAD = "zc.buildout "


def probe(venv: str) -> tuple[str | None, str | None]:
    """(why the venv's Python or pip does not run, or None; the zc.buildout
    version it holds, or None), from one run of its Python."""
    try:
        # Run in the venv's folder: ``-c`` puts the working directory first
        # on sys.path, and the build's is a checkout (a ``runpy.py`` or
        # ``pip/`` there must not answer for the venv).
        out = subprocess.run([os.path.abspath(venv_python(venv)), "-c", PROBE],
                             capture_output=True, text=True, errors="replace",
                             timeout=PROBE_TIMEOUT, cwd=os.path.abspath(venv))
    except subprocess.TimeoutExpired:
        return f"its pip did not answer within {PROBE_TIMEOUT} s", None
    except OSError as exc:
        return f"its Python does not run ({exc.strerror or exc})", None
    first = (out.stdout.splitlines() or [""])[0]
    version = first[len(PROBE_HEAD):].strip() if first.startswith(PROBE_HEAD) else ""
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no message"])[-1]
        return f"its pip does not run ({last})", version or None
    return None, version or None


def venv_state(venv: str) -> tuple[str | None, str | None]:
    """(why ``venv`` cannot be reused, or None if it can; the zc.buildout
    version it holds), cheapest checks first: its Python runs only for a
    venv that passed the others, and only once."""
    if os.path.islink(venv) or not os.path.isdir(venv):
        return "is not a folder", None
    if not same_interpreter(venv):
        return "was made by another Python (or its pyvenv.cfg is missing)", None
    if not os.path.isfile(os.path.join(venv, MARKER)):
        return "was not finished by a previous bootstrap", None
    return probe(venv)


def remove(path: str) -> None:
    if os.path.islink(path) or not os.path.isdir(path):
        os.unlink(path)
    else:
        shutil.rmtree(path)


def create(venv: str) -> int:
    print(f"creating venv {venv} with {sys.executable}", flush=True)
    if subprocess.call([sys.executable, "-m", "venv", venv]) == 0:
        problem, _version = probe(venv)   # the same check a reused venv gets
        if problem is None:
            return 0
        print(f"bootstrap: the new venv {venv} is not usable: {problem}", file=sys.stderr)
    else:
        print(f"bootstrap: could not create venv {venv} (disk full?)", file=sys.stderr)
    if os.path.lexists(venv):
        try:
            remove(venv)
        except OSError:
            pass  # the next bootstrap finds no marker and tries again
    return 1


def pip(venv: str, *args: str) -> int:
    """The venv's pip, run in the venv's folder (``-m`` puts the working
    directory first on sys.path: a checkout's ``pip/`` must not run):
    path arguments must be absolute."""
    command = [os.path.abspath(venv_python(venv)), "-m", "pip",
               "--disable-pip-version-check", *args]
    print("running:", " ".join(command), flush=True)
    return subprocess.call(command, cwd=os.path.abspath(venv))


@contextlib.contextmanager
def download_lock(wheels: str):
    """One download into the wheel cache at a time per worker."""
    fd = os.open(os.path.join(wheels, ".anybox-download-lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def download(venv: str, wanted: list[str], wheels: str) -> int:
    """Download into a folder of the cache, then rename each file in (a
    killed download never leaves a truncated wheel in the cache)."""
    scratch = tempfile.mkdtemp(prefix="download-", dir=os.path.join(os.path.dirname(wheels),
                                                                    "tmp"))
    try:
        code = pip(venv, "download", "-q", "--dest", scratch, "--find-links", wheels,
                   "--", *wanted)
        if code == 0:
            for name in os.listdir(scratch):
                os.replace(os.path.join(scratch, name), os.path.join(wheels, name))
        return code
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def install(venv: str, version: str, wheels: str, extra: list[str] | None = None) -> int:
    """zc.buildout and the ``extra`` requirements (``wanted_requirements``:
    with the setuptools bound), in one pip run (one resolution): from the
    wheel cache, else downloaded into it first, by one pip run too."""
    requirement = f"zc.buildout=={version}"
    wanted = [requirement, *(extra or [])]
    what = f"zc.buildout {version}" + "".join(f", {r}" for r in extra or [])

    # '--' ends pip's options: the requirements were checked by the master
    # already, and they can never be read as options here either.
    def from_cache() -> bool:
        return pip(venv, "install", "-q", "--no-index", "--find-links", wheels,
                   "--", *wanted) == 0

    if from_cache():
        print(f"bootstrap: {what} installed from the worker wheel cache")
        return 0
    with download_lock(wheels):
        # another build may have downloaded them while this one waited
        if from_cache():
            print(f"bootstrap: {what} installed from the worker wheel cache")
            return 0
        print(f"bootstrap: downloading {' '.join(wanted)} into the worker wheel cache",
              flush=True)
        if download(venv, wanted, wheels) != 0:
            print(f"bootstrap: could not download {' '.join(wanted)}", file=sys.stderr)
            return 1
    if not from_cache():
        print(f"bootstrap: could not install {' '.join(wanted)}", file=sys.stderr)
        return 1
    print(f"bootstrap: {what} downloaded and installed")
    return 0


REQUIRE_LINE = "require: "


def recorded_requirements(venv: str) -> list[str]:
    """The ``--require`` list the marker of a whole venv records (none in
    markers written before the option existed)."""
    try:
        with open(os.path.join(venv, MARKER), encoding="utf-8", errors="replace") as handle:
            return sorted(line[len(REQUIRE_LINE):].strip() for line in handle
                          if line.startswith(REQUIRE_LINE))
    except OSError:
        return []


def mark_complete(venv: str, version: str, extra: list[str] | None = None) -> None:
    """Written last, atomically: its presence means the venv is whole."""
    marker = os.path.join(venv, MARKER)
    with open(marker + ".tmp", "w", encoding="utf-8") as handle:
        handle.write(f"zc.buildout=={version}\npython {sys.version.split()[0]}\n")
        handle.writelines(f"{REQUIRE_LINE}{r}\n" for r in sorted(extra or []))
    os.replace(marker + ".tmp", marker)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True, help="zc.buildout version")
    parser.add_argument("--venv", default="venv")
    parser.add_argument("--cache", required=True, help="per-worker cache directory")
    parser.add_argument("--require", action="append", default=[],
                        help="a requirement to install too (repeatable)")
    args = parser.parse_args(argv)
    problem = python_problem(args.version, sys.version_info)
    if problem is not None:
        print(f"bootstrap: {problem}", file=sys.stderr)
        return 1
    extra = wanted_requirements(args.version, args.require)

    wheels = os.path.abspath(os.path.join(args.cache, "wheels"))   # pip runs elsewhere
    for sub in ("wheels", "eggs", "downloads", "tmp"):
        os.makedirs(os.path.join(args.cache, sub), exist_ok=True)

    if os.path.lexists(args.venv):
        problem, version = venv_state(args.venv)
        if problem is None and recorded_requirements(args.venv) != extra:
            problem = ("holds other packages than asked ("
                       + (", ".join(recorded_requirements(args.venv)) or "none") + " instead of "
                       + (", ".join(extra) or "none") + ")")
        if problem is not None:
            print(f"bootstrap: venv {args.venv} {problem}; recreating it", flush=True)
            try:
                remove(args.venv)
            except OSError as exc:
                print(f"bootstrap: cannot remove {args.venv}: {exc}; remove it by hand",
                      file=sys.stderr)
                return 1
        elif version == args.version:
            print(f"bootstrap: zc.buildout {args.version} already installed in {args.venv}"
                  + "".join(f", {r}" for r in extra))
            return 0
    if not os.path.lexists(args.venv) and create(args.venv) != 0:
        return 1
    marker = os.path.join(args.venv, MARKER)
    if os.path.exists(marker):
        os.unlink(marker)  # the venv changes: not whole until the install ends
    if install(args.venv, args.version, wheels, extra) != 0:
        print("bootstrap: the next build makes this venv again", file=sys.stderr)
        return 1
    mark_complete(args.venv, args.version, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
