"""``anybox-buildbot force`` and ``status`` against a real master with auth.

One master with two workers for the whole module: ``w1`` alone has the
``stamp`` capability that builder ``w1only`` requires (so ``--worker w2``
must be refused for it); ``broken`` fails after printing 60 numbered lines
and a terminal escape sequence, for the log tail of ``force --wait``.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from localrun import Master, running_master, simple_master_cfg

AUTH = """,
            'auth': util.UserPasswordAuth({'admin': 'adm-pw'}),
            'authz': util.Authz(
                allowRules=[util.AnyControlEndpointMatcher(role='admins')],
                roleMatchers=[util.RolesFromUsername(roles=['admins'],
                                                     usernames=['admin'])])"""


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Master]:
    root = tmp_path_factory.mktemp("cli")
    mdir = root / "master"
    (mdir / "buildouts").mkdir(parents=True)
    (mdir / "buildouts" / "empty.cfg").write_text("[buildout]\nparts =\n")
    (mdir / "buildouts" / "MANIFEST.cfg").write_text(
        "[quick]\nbuildout = standalone empty.cfg\ntest-command = python3 -c "
        "\"import os; print('tag=' + os.environ.get('TAG', ''))\"\n"
        "env.TAG = %(buildout-tag:-none)s\n\n"
        "[broken]\nbuildout = standalone empty.cfg\ntest-command = python3 -c "
        "\"import sys; [print('out-line', i) for i in range(60)]; "
        "print('\\x1b]0;owned\\x07cleared'); sys.exit(3)\"\n\n"
        "[w1only]\nbuildout = standalone empty.cfg\ntest-command = true\n"
        "build-requires = stamp\n")
    (mdir / "workers.cfg").write_text("[w1]\npassword = cli-pw\ncapability = stamp 1\n"
                                      "[w2]\npassword = cli-pw2\n")
    config = functools.partial(simple_master_cfg, www_extra=AUTH,
                               imports="from buildbot.plugins import util")
    with running_master(mdir, {"w1": "cli-pw", "w2": "cli-pw2"}, config) as m:
        yield m


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "anybox_buildbot.cli", *args],
                          capture_output=True, text=True, timeout=600, env=env)


ADMIN = ("--user", "admin", "--password", "adm-pw")


def worker_of(master: Master, build: dict) -> str:
    """The name of the worker that ran ``build`` (a REST build)."""
    return next(w["name"] for w in master.rest.workers() if w["workerid"] == build["workerid"])


def last_build(master: Master, builder: str) -> dict:
    return master.rest.get(f"builders/{builder}/builds", order="-number", limit=1)["builds"][0]


def test_force_needs_credentials(master: Master) -> None:
    result = cli("force", "quick", "--url", master.url)
    assert result.returncode == 1
    assert "not allowed" in result.stderr and "--user" in result.stderr
    result = cli("force", "quick", "--url", master.url, "--user", "admin",
                 "--password", "wrong")
    assert result.returncode == 1 and "refused" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_force_wait_success_with_progress_and_prop(master: Master) -> None:
    import os
    env = {**os.environ, "ANYBOX_BUILDBOT_USER": "admin", "ANYBOX_BUILDBOT_PASSWORD": "adm-pw"}
    result = cli("force", "quick", "--url", master.url, "--prop", "buildout-tag=v7",
                 "--wait", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    build = last_build(master, "quick")
    assert lines[0].startswith("forced quick: build request ")
    # the build's web page comes first, as soon as a worker took it
    url = f"{master.url.rstrip('/')}/#/builders/{build['builderid']}/builds/{build['number']}"
    lines = [line for line in lines[1:] if not line.startswith("waiting for ")]
    assert lines[0] == f"build {build['number']} of quick on {worker_of(master, build)}: {url}"
    # then every step once, in order, as it finished: name, result, duration
    steps = [s for s in master.rest.steps(build["buildid"]) if not s["hidden"]]
    shown = [line.split(":")[0].strip() for line in lines if line.startswith("  step ")]
    assert shown == [f"step {s['number']} {s['name']}" for s in steps]
    test_line = next(line for line in lines if line.startswith(f"  step {steps[-1]['number']} "))
    assert test_line.endswith(" s)") and ": success (" in test_line
    assert lines[-1].startswith(f"build {build['number']} of quick: success")
    assert "last " not in result.stdout              # no log tail for a success
    log = master.rest.step_log(build["buildid"], "test")
    assert "tag=v7" in log


def test_force_wait_on_chosen_worker_prints_failure_log_tail(master: Master) -> None:
    result = cli("force", "broken", "--url", master.url, *ADMIN, "--wait",
                 "--worker", "w2", "--log-lines", "5")
    assert result.returncode == 12, result.stdout + result.stderr   # 10 + FAILURE
    build = last_build(master, "broken")
    assert worker_of(master, build) == "w2"                 # ran where it was asked
    out = result.stdout
    assert f"build {build['number']} of broken on w2: " in out
    assert f"build {build['number']} of broken: failure" in out
    test_step = next(s for s in master.rest.steps(build["buildid"]) if s["name"] == "test")
    title = f"last 5 lines of step {test_step['number']} test (log stdio):"
    head, _sep, tail = out.partition(title)
    assert tail, out
    assert f"  step {test_step['number']} test: failure (" in head
    shown = [line.strip() for line in tail.splitlines() if line.strip()]
    # the output's last lines, without Buildbot's header lines; the escape
    # sequence a build printed cannot drive the admin's terminal
    assert shown == ["out-line 56", "out-line 57", "out-line 58", "out-line 59",
                     "?]0;owned?cleared"]
    assert "\x1b" not in out


def test_force_worker_that_cannot_run_the_builder_is_refused(master: Master) -> None:
    before = len(master.rest.get("buildrequests")["buildrequests"])
    result = cli("force", "w1only", "--url", master.url, *ADMIN, "--worker", "w2", "--wait")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == ("error: worker 'w2' cannot run builder 'w1only'; "
                             "the workers that can: w1\n")
    result = cli("force", "quick", "--url", master.url, *ADMIN, "--worker", "nobody")
    assert result.returncode == 2
    assert result.stderr == ("error: worker 'nobody' cannot run builder 'quick'; "
                             "the workers that can: w1, w2\n")
    assert len(master.rest.get("buildrequests")["buildrequests"]) == before   # nothing forced


def test_force_unknown_builder(master: Master) -> None:
    result = cli("force", "nope", "--url", master.url, "--user", "admin",
                 "--password", "adm-pw")
    assert result.returncode == 1 and "no builder 'nope'" in result.stderr
    assert "broken, quick" in result.stderr


def test_status_lists_workers_and_builders(master: Master) -> None:
    result = cli("status", "--url", master.url)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.strip().startswith("w1"))
    assert "connected" in line and "not connected" not in line
    assert "broken, quick" in line
    assert "running builds: 0" in result.stdout


def test_status_of_unreachable_master(tmp_path: Path) -> None:
    result = cli("status", "--url", "http://127.0.0.1:9/")
    assert result.returncode == 3
    assert result.stderr.startswith("error: GET http://127.0.0.1:9/api/v2/builders: "
                                    "connection refused")
    assert result.stderr.count("\n") == 1


def test_credentials_in_the_url_log_in_and_stay_secret(master: Master) -> None:
    url = master.url.replace("//", "//admin:adm-pw@")
    result = cli("force", "quick", "--url", url)
    assert result.returncode == 0, result.stderr
    result = cli("force", "quick", "--url", master.url.replace("//", "//admin:Wrong-pw-77@"))
    assert result.returncode == 1
    assert "log in as 'admin'" in result.stderr and "refused by the master" in result.stderr
    assert "Wrong-pw-77" not in result.stdout + result.stderr
