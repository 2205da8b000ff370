"""``anybox-buildbot force`` and ``status`` against a real master with auth."""

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
        "[broken]\nbuildout = standalone empty.cfg\ntest-command = false\n")
    (mdir / "workers.cfg").write_text("[w1]\npassword = cli-pw\n")
    config = functools.partial(simple_master_cfg, www_extra=AUTH,
                               imports="from buildbot.plugins import util")
    with running_master(mdir, {"w1": "cli-pw"}, config) as m:
        yield m


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "anybox_buildbot.cli", *args],
                          capture_output=True, text=True, timeout=600, env=env)


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
    assert "forced quick: build request" in result.stdout
    assert "step " in result.stdout            # live progress lines
    assert "build 1 of quick: success" in result.stdout
    builds = master.rest.get("builders/quick/builds")["builds"]
    log = master.rest.step_log(builds[-1]["buildid"], "test")
    assert "tag=v7" in log


def test_force_wait_exits_with_failure_result(master: Master) -> None:
    result = cli("force", "broken", "--url", master.url, "--user", "admin",
                 "--password", "adm-pw", "--wait")
    assert result.returncode == 12          # 10 + FAILURE, distinct from usage errors
    assert "failure" in result.stdout


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
