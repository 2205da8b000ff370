"""Two PostgreSQL clusters on one worker: each build uses the planned one.

A real master and one real worker declaring two real clusters (the
session's and one started here). Their versions on the capability lines
are the worker admin's labels (13 and 15), which is all the choice rule
reads. The plan decides, per builder, which cluster a build on that worker
uses (SPEC section 4); the ``capabilities`` step looks the decision up by
builder and worker and exports it, and the test command asks the server it
reached for its port. Three buildouts cover the rule: no constraint (the
highest), a constraint excluding the highest, and ``build-for`` (two
builders sharing one factory, each with its own cluster).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from anybox_buildbot.cli import main
from localrun import PgCluster, Rest, running_master

BUILD_TIMEOUT = 600
SHOW_PORT = 'psql -X -At -d postgres -c "select \'server port \' || current_setting(\'port\')"'
MANIFEST = textwrap.dedent(f"""\
    [DEFAULT]
    buildout = standalone plain.cfg
    buildout-options = buildout:newest=false
    test-command = {SHOW_PORT}

    [highest]
    build-requires = postgresql

    [below-15]
    build-requires = postgresql < 15

    [matrix]
    build-for = postgresql
    """)


@dataclass
class Run:
    rest: Rest
    master_dir: Path
    ports: dict[str, int]              # label -> port of the real cluster
    builds: dict[str, dict] = field(default_factory=dict)
    props: dict[str, dict] = field(default_factory=dict)

    def log(self, builder: str, step: str, slug: str = "stdio") -> str:
        return self.rest.step_log(self.builds[builder]["buildid"], step, slug)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, pg_cluster: PgCluster) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("choice")
    second = PgCluster()
    try:
        second.start()
        master_dir = root / "master"
        (master_dir / "buildouts").mkdir(parents=True)
        (master_dir / "buildouts" / "plain.cfg").write_text("[buildout]\nparts =\n")
        (master_dir / "buildouts" / "MANIFEST.cfg").write_text(MANIFEST)
        # The lower label first: "first declared" must not be what decides.
        (master_dir / "workers.cfg").write_text(textwrap.dedent(f"""\
            [two-clusters]
            password = choice-pass
            capability = postgresql 13 port={pg_cluster.port} host={pg_cluster.host} bin={pg_cluster.bin_dir}
                         postgresql 15 port={second.port} host={second.host} bin={second.bin_dir}
            """))  # noqa: E501
        with running_master(master_dir, {"two-clusters": "choice-pass"}) as master:
            result = Run(master.rest, master_dir, {"13": pg_cluster.port, "15": second.port})
            requests = result.rest.force(sorted(result.rest.builders()))
            for builder, brid in requests.items():
                result.builds[builder] = result.rest.wait_build(brid, timeout=BUILD_TIMEOUT)
                result.props[builder] = result.rest.build_properties(
                    result.builds[builder]["buildid"])
            yield result
    finally:
        second.close()


@pytest.mark.parametrize("builder, label", [
    ("highest", "15"),                  # the highest version
    ("below-15", "13"),                 # the highest meeting build-requires
    ("matrix-pg13", "13"),              # build-for: the pinned version ...
    ("matrix-pg15", "15"),              # ... in the factory both builders share
])
def test_each_build_reaches_the_cluster_the_plan_chose(run: Run, builder: str,
                                                       label: str) -> None:
    build = run.builds[builder]
    assert build["results"] == 0, (builder, build["state_string"])
    port = str(run.ports[label])
    props = run.props[builder]
    assert props["workername"] == "two-clusters"
    assert props["pg_version"] == label
    assert props["cap_postgresql_port"] == port
    chosen = run.log(builder, "capabilities", "capabilities")
    assert f"postgresql: postgresql {label} port={port} " in chosen
    assert f"env PGPORT={port}\n" in chosen
    assert f"server port {port}" in run.log(builder, "test")


def test_the_builders_are_the_planned_ones(run: Run) -> None:
    assert sorted(run.builds) == ["below-15", "highest", "matrix-pg13", "matrix-pg15"]
    assert run.ports["13"] != run.ports["15"]


def test_plan_shows_the_choice_the_builds_made(run: Run, capsys) -> None:
    assert main(["plan", "--json", str(run.master_dir)]) == 0
    shown = {b["name"]: b["instances"] for b in json.loads(capsys.readouterr().out)["builders"]}
    for builder, props in run.props.items():
        (line,) = shown[builder]["two-clusters"]
        assert f" port={props['cap_postgresql_port']} " in line, builder
