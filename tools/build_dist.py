"""Build the sdist and the wheel, and refuse any warning on the way.

``python tools/build_dist.py OUTDIR`` runs ``python -m build`` (sdist, then
the wheel built from that sdist, so a file missing from the sdist shows
up), fails when its output holds a warning (a deprecated setting, a
``MANIFEST.in`` line matching nothing...), then runs ``twine check
--strict`` on both files. ``make dist`` and the packaging test run it, so
what a packager sees is checked on every test run.

The build starts from a copy of the working tree without what tools
generate (``__pycache__``, ``.venv``, ``docs/_build``...): a checkout where
the tests ran would otherwise put compiled files into the sdist, and
excluding them in ``MANIFEST.in`` makes setuptools warn when there are none.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# "warning" as a word, or a Python *Warning class name; never the names of
# our own files (none is called like that).
WARNING = re.compile(r"\bwarning\b|[A-Za-z]+Warning\b", re.IGNORECASE)
GENERATED = shutil.ignore_patterns(
    ".git", "__pycache__", "*.py[cod]", ".venv", ".venv-crossbar", "dist", "build",
    "*.egg-info", "_build",
    ".pytest_cache", ".ruff_cache", ".hypothesis", "demo-run")


def clean_copy(into: Path) -> Path:
    """The working tree without generated files, under ``into``."""
    source = into / "src"
    shutil.copytree(ROOT, source, ignore=GENERATED, symlinks=True)
    return source


def build(outdir: Path) -> list[Path]:
    """Build into ``outdir``; return the two files, or exit with the reason."""
    # PYTHONDONTWRITEBYTECODE makes setuptools warn that it does not
    # byte-compile: a fact of the caller's shell, not of the package.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="anybox-build-") as tmp:
        source = clean_copy(Path(tmp))
        proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(outdir),
                               str(source)], capture_output=True, text=True, cwd=source,
                              env=env)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        sys.exit(f"python -m build failed (rc={proc.returncode}):\n{output}")
    warnings = [line for line in output.splitlines() if WARNING.search(line)]
    if warnings:
        sys.exit("python -m build printed warnings:\n" + "\n".join(warnings))
    files = sorted(outdir.glob("*.tar.gz")) + sorted(outdir.glob("*.whl"))
    if len(files) != 2:
        sys.exit(f"expected one sdist and one wheel in {outdir}, found {files}")
    return files


def twine_check(files: list[Path]) -> None:
    proc = subprocess.run([sys.executable, "-m", "twine", "check", "--strict",
                           *map(str, files)], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"twine check failed:\n{proc.stdout}{proc.stderr}")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.exit("usage: build_dist.py OUTDIR")
    outdir = Path(argv[0]).absolute()
    files = build(outdir)
    twine_check(files)
    for path in files:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
