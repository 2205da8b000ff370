"""Bootstrap a buildout on a worker: a venv with the wanted zc.buildout.

Shipped to the worker by the master (FileDownload) and run with the
interpreter chosen by the ``python`` capability. Standard library only.

Wheels are kept in a cache shared by all builders of the worker, so a
package is downloaded once per worker, and a venv that already holds the
right zc.buildout is reused as is. What happened is printed in one line the
tests (and humans) can rely on.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def venv_python(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def installed_version(venv: str) -> str | None:
    if not os.path.exists(venv_python(venv)):
        return None
    probe = ("import importlib.metadata as m\n"
             "try:\n print(m.version('zc.buildout'))\n"
             "except m.PackageNotFoundError:\n print('')\n")
    out = subprocess.run([venv_python(venv), "-c", probe], capture_output=True, text=True)
    return out.stdout.strip() or None


def same_interpreter(venv: str) -> bool:
    """Whether the venv was made by this interpreter (version may differ)."""
    cfg = os.path.join(venv, "pyvenv.cfg")
    if not os.path.exists(cfg):
        return False
    wanted = "{}.{}".format(*sys.version_info[:2])
    with open(cfg, encoding="utf-8") as handle:
        for line in handle:
            key, _, value = line.partition("=")
            if key.strip() in ("version", "version_info"):
                return value.strip().startswith(wanted)
    return False


def pip(venv: str, *args: str) -> int:
    command = [venv_python(venv), "-m", "pip", "--disable-pip-version-check", *args]
    print("running:", " ".join(command), flush=True)
    return subprocess.call(command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True, help="zc.buildout version")
    parser.add_argument("--venv", default="venv")
    parser.add_argument("--cache", required=True, help="per-worker cache directory")
    args = parser.parse_args(argv)

    wheels = os.path.join(args.cache, "wheels")
    for sub in ("wheels", "eggs", "downloads"):
        os.makedirs(os.path.join(args.cache, sub), exist_ok=True)

    if os.path.exists(args.venv) and not same_interpreter(args.venv):
        print(f"venv {args.venv} was made by another Python; recreating it", flush=True)
        subprocess.check_call([sys.executable, "-c",
                               "import shutil, sys; shutil.rmtree(sys.argv[1])", args.venv])
    if not os.path.exists(venv_python(args.venv)):
        print(f"creating venv {args.venv} with {sys.executable}", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", args.venv])

    requirement = f"zc.buildout=={args.version}"
    have = installed_version(args.venv)
    if have == args.version:
        print(f"bootstrap: zc.buildout {have} already installed in {args.venv}")
        return 0
    if pip(args.venv, "install", "-q", "--no-index", "--find-links", wheels,
           requirement) == 0:
        print(f"bootstrap: zc.buildout {args.version} installed from the worker wheel cache")
        return 0
    print(f"bootstrap: downloading {requirement} into the worker wheel cache", flush=True)
    if pip(args.venv, "download", "-q", "--dest", wheels, requirement) != 0:
        print(f"bootstrap: could not download {requirement}", file=sys.stderr)
        return 1
    if pip(args.venv, "install", "-q", "--no-index", "--find-links", wheels,
           requirement) != 0:
        return 1
    print(f"bootstrap: zc.buildout {args.version} downloaded and installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
