"""Build an sdist and a wheel, or run an upload command with them.

Shipped to the worker by the ``packaging`` step set and run by the
configured Python (the bootstrap venv by default). Standard library only.

Why a script: building both distributions into an emptied folder, then
handing the built files to an upload command, is several program calls;
doing it here keeps every one of them an argument list (no shell, no
glob expanded by a shell) and prints what was built in lines the tests
(and humans) can rely on: ``built: NAME``.

    python sf_package.py build --builder=pep517 --path=. --dist-dir=dist
    python sf_package.py upload --dist-dir=dist -- twine upload -r internal
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import subprocess
import sys

LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
DIST_SUFFIXES = (".tar.gz", ".zip", ".whl")


def build_system(project: str) -> tuple[str, list[str]]:
    """(build-backend, backend-path) of ``project``'s pyproject.toml; the
    setuptools legacy backend when there is none (a setup.py project)."""
    path = os.path.join(project, "pyproject.toml")
    if not os.path.exists(path):
        return LEGACY_BACKEND, []
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        import tomllib
    except ImportError:  # Python < 3.11 on the worker: the two keys we need
        text = data.decode("utf-8")
        backend = re.search(r'^\s*build-backend\s*=\s*["\']([^"\']+)["\']', text, re.M)
        return (backend.group(1) if backend else LEGACY_BACKEND), []
    table = tomllib.loads(data.decode("utf-8")).get("build-system", {})
    return table.get("build-backend", LEGACY_BACKEND), list(table.get("backend-path", []))


def load_backend(spec: str, backend_path: list[str], project: str):
    for entry in reversed(backend_path):
        sys.path.insert(0, os.path.abspath(os.path.join(project, entry)))
    module_name, _, attrs = spec.partition(":")
    backend = importlib.import_module(module_name)
    for attr in filter(None, attrs.split(".")):
        backend = getattr(backend, attr)
    return backend


def build_pep517(project: str, dist: str) -> int:
    """Call the project's build backend in this interpreter (PEP 517 hooks,
    no isolated environment: nothing is downloaded)."""
    spec, backend_path = build_system(project)
    print(f"build backend: {spec}", flush=True)
    os.chdir(project)
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    backend = load_backend(spec, backend_path, ".")
    backend.build_sdist(dist)
    backend.build_wheel(dist)
    return 0


def run(command: list[str], cwd: str | None = None) -> int:
    print("running:", " ".join(command), flush=True)
    return subprocess.call(command, cwd=cwd)


def built_files(dist: str) -> list[str]:
    if not os.path.isdir(dist):
        return []
    return sorted(os.path.join(dist, name) for name in os.listdir(dist)
                  if name.endswith(DIST_SUFFIXES))


def build(builder: str, project: str, dist: str) -> int:
    dist = os.path.abspath(dist)
    here = os.path.abspath(os.getcwd())
    if here == dist or here.startswith(dist.rstrip(os.sep) + os.sep):
        print(f"refusing to empty {dist}: it holds the build folder", file=sys.stderr)
        return 2
    if os.path.isdir(dist):
        shutil.rmtree(dist)
    os.makedirs(dist)
    if builder == "pep517":
        rc = build_pep517(project, dist)
    elif builder == "build":
        rc = run([sys.executable, "-m", "build", "--sdist", "--wheel", f"--outdir={dist}",
                  project])
    else:
        rc = run([sys.executable, "setup.py", "sdist", f"--dist-dir={dist}",
                  "bdist_wheel", f"--dist-dir={dist}"], cwd=project)
    if rc != 0:
        return rc
    files = built_files(dist)
    for path in files:
        print(f"built: {os.path.basename(path)}")
    kinds = {"wheel" if f.endswith(".whl") else "sdist" for f in files}
    if kinds != {"sdist", "wheel"}:
        print(f"expected an sdist and a wheel in {dist}, got: "
              f"{[os.path.basename(f) for f in files]}", file=sys.stderr)
        return 1
    return 0


def upload(dist: str, command: list[str]) -> int:
    files = built_files(dist)
    if not files:
        print(f"nothing to upload in {dist}", file=sys.stderr)
        return 1
    if not command:
        print("no upload command given", file=sys.stderr)
        return 2
    return run([*command, *files])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1:]
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=("build", "upload"))
    parser.add_argument("--builder", choices=("pep517", "build", "setup.py"),
                        default="pep517")
    parser.add_argument("--path", default=".")
    parser.add_argument("--dist-dir", default="dist")
    args = parser.parse_args(argv)
    if args.action == "build":
        return build(args.builder, args.path, args.dist_dir)
    return upload(args.dist_dir, command)


if __name__ == "__main__":
    sys.exit(main())
