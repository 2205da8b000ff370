"""The Fleet page in a real browser, on a real master (issue 13).

One master, two workers declared; only ``pg-box`` is started, so the page
must tell a connected worker from one that is not. Headless Chromium (the
Debian package ``make sysdeps`` installs) loads the web UI at ``#/fleet``,
lets Buildbot's UI fetch and insert the page, and prints the DOM. Then a
reconfig with a changed workers.cfg must show on the page without a restart.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from localrun import Master, running_master

MANIFEST = textwrap.dedent("""\
    [DEFAULT]
    buildout = standalone plain.cfg

    [below-15]
    build-requires = postgresql < 15

    [needs-oracle]
    build-requires = oracle
    """)

WORKERS = textwrap.dedent("""\
    [pg-box]
    password = pg-pass
    capability = postgresql 13 port=5433
                 postgresql 15 port=5434

    [idle-box]
    password = idle-pass
    capability = postgresql 12.4 port=6012
    """)

#: Virtual time the UI gets to load its scripts, fetch the page and render.
BUDGET_MS = 20000


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is missing: run `make sysdeps` (Debian package 'chromium')",
                    pytrace=False)
    return found


def dump_dom(url: str, profile: Path) -> str:
    """The DOM of ``url`` once rendered, as headless Chromium prints it."""
    argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
            f"--user-data-dir={profile}", f"--virtual-time-budget={BUDGET_MS}",
            "--dump-dom", url]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def text_of(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).replace("&amp;", "&").split())


def worker_row(dom: str, name: str) -> str:
    match = re.search(rf'<tr class="fleet-worker" data-worker="{name}">(.*?)</tr>', dom, re.S)
    assert match is not None, f"no row of worker {name} in the DOM:\n{dom[-3000:]}"
    return text_of(match.group(1))


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Master]:
    root = tmp_path_factory.mktemp("fleet")
    master_dir = root / "master"
    (master_dir / "buildouts").mkdir(parents=True)
    (master_dir / "buildouts" / "plain.cfg").write_text("[buildout]\nparts =\n")
    (master_dir / "buildouts" / "MANIFEST.cfg").write_text(MANIFEST)
    (master_dir / "workers.cfg").write_text(WORKERS)
    with running_master(master_dir, {"pg-box": "pg-pass"}) as running:
        yield running


def test_fleet_page_in_the_web_ui_shows_plan_and_live_state(master: Master,
                                                            tmp_path: Path) -> None:
    dom = dump_dom(master.url + "#/fleet", tmp_path / "profile")
    assert 'class="anybox-fleet"' in dom, dom[-3000:]
    pg_box = worker_row(dom, "pg-box")
    idle = worker_row(dom, "idle-box")
    assert "postgresql 12.4 port=6012" in idle               # a capability version
    assert " connected " in f" {pg_box} " and "not connected" not in pg_box
    assert "not connected" in idle
    assert "anybox_buildbot local run" not in pg_box          # host, not admin
    assert f"{platform.node()}: " in pg_box                   # the host info it reported
    builder = re.search(r'data-builder="below-15"[^>]*>(.*?)</details>', dom, re.S)
    assert builder is not None
    below = text_of(builder.group(1))
    # the plan's chosen instance (13 among 13 and 15), and the closest miss
    assert "pg-box postgresql 13 port=5433 (chosen among several)" in below
    assert "idle-box postgresql 12.4 port=6012" in below
    unbuilt = text_of(dom.split('id="fleet-unbuilt"', 1)[1].split("</table>", 1)[0])
    assert "needs-oracle" in unbuilt and "has no oracle" in unbuilt
    # the Workers page of the UI: what the worker reported, not the placeholders
    info = master.rest.worker("pg-box")["workerinfo"]
    assert info["admin"].startswith("anybox_buildbot local run")
    assert info["host"].startswith(platform.node()) and "Your Name" not in info["admin"]


def test_a_reconfig_shows_the_new_files_without_restart(master: Master) -> None:
    workers = master.basedir / "workers.cfg"
    workers.write_text(WORKERS + "             oracle 19\n")
    rc, output = master.reconfig()
    assert rc == 0, output
    url = master.url + "plugins/wsgi_dashboards/fleet/index.html"
    with urllib.request.urlopen(url, timeout=30) as response:
        page = response.read().decode()
    assert "oracle 19" in worker_row(page, "idle-box")
    assert 'data-builder="needs-oracle"' in page      # now built, on idle-box
    assert "idle-box" in text_of(page.split('data-builder="needs-oracle"', 1)[1]
                                 .split("</details>", 1)[0])
