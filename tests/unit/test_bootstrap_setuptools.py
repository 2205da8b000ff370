"""The setuptools bound the worker's bootstrap adds for old zc.buildout
releases (zc.buildout 3, 4 and 5.0 import modules setuptools 80 and 81
took out, and do not bound it; a Python 3.12 venv comes without setuptools, so
pip would install the newest and ``bin/buildout`` would not start).

Pure functions here; the bound applied to a whole venv is in
test_bootstrap_probe.py (stand-in venvs) and tests/e2e/test_bootstrap.py
(a real Python 3.12 venv running a real ``bin/buildout``).
"""

from __future__ import annotations

import pytest
from unit_helpers import load_worker_script

bootstrap = load_worker_script("bootstrap")


@pytest.mark.parametrize(("version", "bound"), [
    ("3.0.1", "setuptools<80"),
    ("3.3", "setuptools<80"),
    ("3.4", "setuptools<80"),
    ("3", "setuptools<80"),
    ("3.0.0b1", "setuptools<80"),
    (" 3.3 ", "setuptools<80"),
    ("3.3rc1", "setuptools<80"),
    ("3a", "setuptools<80"),            # PEP 440: 3a0
    ("4.0", "setuptools<80"),
    ("4.1.12", "setuptools<80"),
    ("4.2.0", "setuptools<80"),
    ("5.0.0", "setuptools<81"),
    ("5", "setuptools<81"),             # pip: 5.0.0
    ("5.0", "setuptools<81"),
    ("5.0b1", "setuptools<81"),
    ("5RC1", "setuptools<81"),          # pip: 5.0rc1
    ("4RC1", "setuptools<80"),
    ("3-1", "setuptools<80"),           # pip: 3.post1
    ("3.3+local", "setuptools<80"),
])
def test_releases_3_4_and_5_0_get_the_setuptools_they_run_with(version: str, bound: str
                                                               ) -> None:
    assert bootstrap.setuptools_bound(version) == bound


@pytest.mark.parametrize("version", [
    "5.1.0", "5.1.3", "5.2.0", "6.0.1", "7.0",   # bound it themselves or need none
    "2.13.8", "1.7.1",                   # bound setuptools themselves
    "30.1", "43.0",                      # not a 3 or a 4
    "5.1-1", "5.1+local", "5.2RC1",      # 5.1 and 5.2, whatever follows
])
def test_other_releases_get_no_bound(version: str) -> None:
    assert bootstrap.setuptools_bound(version) is None


@pytest.mark.parametrize("version", [
    "", " ", "latest", "v3.3", "3_3", ".3", "-3", "3,3", "٣.3", "3" * 5000, "9" * 5000 + ".1",
    "1!3.3", "5." + "1" * 5000,
])
def test_odd_version_texts_get_no_bound_and_no_crash(version: str) -> None:
    """pip reports what is wrong with such a version; the bound stays out
    of its way (a 5000-digit number is not even turned into an int)."""
    assert bootstrap.setuptools_bound(version) is None


def test_the_bound_joins_the_manifest_requirements_sorted() -> None:
    assert bootstrap.wanted_requirements("3.3", ["zope.interface<8", "horse-with-no-namespace"]
                                         ) == ["horse-with-no-namespace", "setuptools<80",
                                               "zope.interface<8"]
    assert bootstrap.wanted_requirements("4.1.12", []) == ["setuptools<80"]
    assert bootstrap.wanted_requirements("5.0.0", []) == ["setuptools<81"]
    assert bootstrap.wanted_requirements("6.0.1", ["b", "a", "b"]) == ["a", "b"]


@pytest.mark.parametrize("named", [
    "setuptools<75", "setuptools", "Setuptools==69.5.1", "SetupTools >=60,<70",
    "setuptools[core]<79", "setuptools; python_version<'3.12'",
])
def test_the_manifest_naming_setuptools_wins(named: str) -> None:
    assert bootstrap.wanted_requirements("3.3", [named, "horse-with-no-namespace"]) \
        == sorted([named, "horse-with-no-namespace"])


@pytest.mark.parametrize("other", ["setuptools-scm", "setuptoolsx", "pysetuptools",
                                   "setuptools_git<2", "setup_tools<70", "setup.tools"])
def test_a_package_whose_name_only_starts_like_setuptools_does_not(other: str) -> None:
    assert bootstrap.wanted_requirements("3.3", [other]) == sorted([other, "setuptools<80"])


@pytest.mark.parametrize("python", [(3, 12, 0), (3, 12, 3, "final", 0), (3, 13, 1), (4, 0, 0)])
@pytest.mark.parametrize("version", ["2.13.8", "2", "2.0.0b1", "2.5.3"])
def test_zc_buildout_2_on_python_3_12_or_later_is_said_with_both_ways_out(
        version: str, python: tuple) -> None:
    problem = bootstrap.python_problem(version, python)
    assert problem is not None
    assert problem.startswith(f"zc.buildout {version} does not run on Python "
                              + ".".join(map(str, python[:3])))
    assert "buildout-version" in problem and "build-requires = python < 3.12" in problem


@pytest.mark.parametrize(("version", "python"), [
    ("2.13.8", (3, 11, 9)),      # zc.buildout 2 still runs on 3.11
    ("2.13.8", (3, 8, 0)),
    ("3.3", (3, 12, 0)),
    ("20.1", (3, 13, 0)),        # not 2: the major number is read whole
    ("6.0.1", (3, 13, 0)),
    ("latest", (3, 12, 0)),      # pip judges a text that is no version
])
def test_other_pairs_are_no_problem_of_the_bootstrap(version: str, python: tuple) -> None:
    assert bootstrap.python_problem(version, python) is None


def test_the_refusal_comes_before_any_venv_or_cache_is_made(
        tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(bootstrap.sys, "version_info", (3, 12, 1, "final", 0))
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    rc = bootstrap.main(["--version", "2.13.8", "--venv", str(venv), "--cache", str(cache)])
    assert rc == 1
    assert "bootstrap: zc.buildout 2.13.8 does not run on Python 3.12.1" in capsys.readouterr().err
    assert not venv.exists() and not cache.exists()
