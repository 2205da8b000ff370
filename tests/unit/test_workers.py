"""workers.cfg fragments -> WorkerSpec: options, properties, secrets."""

from __future__ import annotations

import pytest

from anybox_buildbot.errors import Location
from anybox_buildbot.version import parse_version

FULL = """
[ci-worker-1]
password = s3cret                  ; required
capability = postgresql 9.6 port=5433
             postgresql 13 bin=/usr/lib/postgresql/13/bin port=5434
             python 3.11 bin=/usr/bin
             selenium-server 2.3
             private-git-access
build-only-if-requires = selenium-server
max_builds = 2
keepalive_interval = 30
missing_timeout = 600
notify_on_missing = ops@example.com, dev@example.com
                    boss@example.com
worker_priority = 10
arch = x86_64
db_prefix = ci_
"""


def test_full_worker(load_workers_text, tmp_path):
    (worker,) = load_workers_text(FULL)
    assert worker.name == "ci-worker-1"
    assert worker.location == Location(str(tmp_path / "workers0.cfg"), 1)
    assert worker.password == "s3cret"
    assert worker.secret_name is None
    assert [(c.name, c.version_text, c.options) for c in worker.capabilities] == [
        ("postgresql", "9.6", {"port": "5433"}),
        ("postgresql", "13", {"bin": "/usr/lib/postgresql/13/bin", "port": "5434"}),
        ("python", "3.11", {"bin": "/usr/bin"}),
        ("selenium-server", "2.3", {}),
        ("private-git-access", None, {}),
    ]
    assert [str(r) for r in worker.only_if_requires] == ["selenium-server"]
    assert worker.max_builds == 2
    assert worker.keepalive_interval == 30
    assert worker.missing_timeout == 600
    assert worker.notify_on_missing == ("ops@example.com", "dev@example.com",
                                        "boss@example.com")
    assert worker.properties == {"worker_priority": 10, "arch": "x86_64", "db_prefix": "ci_"}
    assert worker.priority == 10
    assert isinstance(worker.properties["worker_priority"], int)


def test_instances_and_has(load_workers_text):
    (worker,) = load_workers_text(FULL)
    assert [c.version_text for c in worker.instances("postgresql")] == ["9.6", "13"]
    assert worker.instances("mysql") == ()
    assert worker.has("private-git-access")
    assert not worker.has("private")


def test_password_never_in_repr_or_properties(load_workers_text):
    (worker,) = load_workers_text(FULL)
    assert "s3cret" not in repr(worker)
    assert "s3cret" not in str(worker)
    assert "password" not in worker.properties
    assert "s3cret" not in repr(worker.properties)


def test_minimal_worker_defaults(load_workers_text):
    (worker,) = load_workers_text("[w]\npassword = pw\n")
    assert worker.capabilities == ()
    assert worker.only_if_requires == ()
    assert worker.max_builds is None
    assert worker.keepalive_interval is None
    assert worker.missing_timeout is None
    assert worker.notify_on_missing == ()
    assert worker.properties == {}
    assert worker.priority == 0


@pytest.mark.parametrize(("password", "secret"), [
    ("%(secret:ci_worker_1)s", "ci_worker_1"),
    ("%(secret:workers/ci-1)s", "workers/ci-1"),
    ("plain", None),
    ("50%", None),
])
def test_secret_name(load_workers_text, password, secret):
    (worker,) = load_workers_text(f"[w]\npassword = {password}\n")
    assert worker.secret_name == secret
    assert worker.password == password


@pytest.mark.parametrize(("lines", "expected"), [
    (["selenium-server"], ["selenium-server"]),
    (["selenium-server >= 2", "  oracle"], ["selenium-server >= 2", "oracle"]),
    (["postgresql == 9.*"], ["postgresql == 9.*"]),
])
def test_build_only_if_requires(load_workers_text, lines, expected):
    text = "[w]\npassword = pw\nbuild-only-if-requires = " + "\n".join(lines) + "\n"
    (worker,) = load_workers_text(text)
    assert [str(r) for r in worker.only_if_requires] == expected


def test_default_section_applies_to_every_worker(load_workers_text):
    workers = load_workers_text("""
        [DEFAULT]
        password = %(secret:fleet)s
        max_builds = 1
        arch = x86_64
        capability = python 3.11

        [w1]

        [w2]
        arch = arm64
        max_builds = 3
        capability = python 3.12
        """)
    w1, w2 = workers
    assert (w1.name, w2.name) == ("w1", "w2")
    assert w1.secret_name == w2.secret_name == "fleet"
    assert (w1.max_builds, w2.max_builds) == (1, 3)
    assert w1.properties == {"arch": "x86_64"}
    assert w2.properties == {"arch": "arm64"}
    assert [c.version_text for c in w1.capabilities] == ["3.11"]
    assert [c.version_text for c in w2.capabilities] == ["3.12"]


def test_several_fragments_keep_order(load_workers_text):
    workers = load_workers_text("[b]\npassword = 1\n[a]\npassword = 2\n",
                                "[c]\npassword = 3\n")
    assert [w.name for w in workers] == ["b", "a", "c"]
    assert workers[2].location.file.endswith("workers1.cfg")


@pytest.mark.parametrize("key", [
    "arch", "db_prefix", "db_template", "os", "pg.cluster", "MAX_JOBS", "priority_queue",
    "build_flags",
])
def test_other_keys_become_properties(load_workers_text, key):
    (worker,) = load_workers_text(f"[w]\npassword = pw\n{key} = some value\n")
    assert worker.properties == {key: "some value"}


@pytest.mark.parametrize("name", ["w", "ci-worker-1", "ci_example_com", "w_2", "_w9",
                                  "W" * 50])
def test_valid_worker_names(load_workers_text, name):
    """Buildbot's own rule (``buildbot.util.identifiers``, 50 characters):
    ``ci.example.com`` or ``9w`` load here but Buildbot refuses them, so
    they are refused at their line (tests/unit/test_bad_inputs.py)."""
    (worker,) = load_workers_text(f"[{name}]\npassword = pw\n")
    assert worker.name == name


def test_several_versions_of_one_capability(load_workers_text):
    (worker,) = load_workers_text("""
        [w]
        password = pw
        capability = postgresql 9.6 port=5433
            postgresql 13 port=5434
            postgresql 13-devel port=5435
        """)
    assert [c.version for c in worker.instances("postgresql")] == [
        parse_version("9.6"), parse_version("13"), parse_version("13-devel")]
