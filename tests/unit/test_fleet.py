"""The Fleet page through Flask's test client (issue 13).

Each test loads a real master.cfg the way Buildbot does (``FileLoader``, no
process, no port) and asks the app that load put in ``c['www']`` for its
page. The live state of the workers normally comes from the running master
(``buildbot_api``, covered end to end in tests/e2e/test_fleet_e2e.py); here
a small stand-in of that API gives it.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from buildbot.config.errors import ConfigErrors
from buildbot.config.master import FileLoader
from unit_helpers import write

from anybox_buildbot.planview import chosen_instances, format_text

PASSWORD = "pw-Very-Secret-1"
HOSTILE = """<script>alert(1)</script>&"q'"""

MASTER_CFG = """\
from anybox_buildbot import configure_from_buildouts
c = BuildmasterConfig = {{
    'buildbotNetUsageData': None,
    'protocols': {{'pb': {{'port': 'tcp:0:interface=127.0.0.1'}}}},
    'www': {{'port': 'tcp:0:interface=127.0.0.1', 'plugins': {{}}}},
    'db': {{'db_url': 'sqlite://'}},
}}
configure_from_buildouts(basedir, c{kwargs})
"""

MANIFEST = """\
[DEFAULT]
buildout = standalone plain.cfg

[below-15]
build-requires = postgresql < 15

[matrix]
build-for = postgresql

[plain]

[needs-oracle]
build-requires = oracle >= 19

[typo]
build-requires = postgres
"""

WORKERS = f"""\
[two-pg]
password = {PASSWORD}
capability = postgresql 13 port=5433
             postgresql 15 port=5434
max_builds = 2
worker_priority = 7

[one-pg]
password = %(secret:one_pg_pass)s
capability = postgresql 12 port=6000 host={HOSTILE}
             oracle 11

[reserved]
password = {PASSWORD}
capability = fakelib 1.0
build-only-if-requires = fakelib
"""


class FakeApi:
    """What the wsgi-dashboards plugin gives the app: ``dataGet``."""

    def __init__(self, workers: list[dict]) -> None:
        self.workers = workers

    def dataGet(self, path):  # noqa: N802 - the plugin's name
        assert path == "workers"
        return self.workers


def load(root: Path, manifest: str = MANIFEST, workers: str = WORKERS, kwargs: str = ""):
    write(root, "master.cfg", MASTER_CFG.format(kwargs=kwargs))
    write(root, "buildouts/plain.cfg", "[buildout]\nparts =\n")
    write(root, "buildouts/MANIFEST.cfg", manifest)
    write(root, "workers.cfg", workers)
    return FileLoader(str(root), "master.cfg").loadConfig()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory):
    return load(tmp_path_factory.mktemp("fleet"))


def app_of(config):
    (entry,) = config.www["plugins"]["wsgi_dashboards"]
    return entry["app"]


def page(config, query: str = "", api: FakeApi | None = None) -> str:
    app = app_of(config)
    if api is not None:
        app.buildbot_api = api
    try:
        response = app.test_client().get("/index.html" + query)
    finally:
        if api is not None:
            del app.buildbot_api
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def text_of(fragment: str) -> str:
    """Visible text: tags dropped, entities decoded, spaces squeezed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def row(page_html: str, css: str, key: str, value: str) -> str:
    """The text of the ``<tr class=css key=value>`` row (or builder block)."""
    match = re.search(rf'<(tr|details) class="{css}" {key}="{re.escape(value)}"[^>]*>(.*?)</\1>',
                      page_html, re.S)
    assert match is not None, (css, value)
    return text_of(match.group(2))


def section(page_html: str, ident: str) -> str:
    match = re.search(rf'<details open id="{ident}">(.*?)</table>\s*</details>', page_html,
                      re.S)
    assert match is not None, ident
    return match.group(1)


def test_the_page_is_a_wsgi_dashboard_named_fleet(config) -> None:
    (entry,) = config.www["plugins"]["wsgi_dashboards"]
    assert (entry["name"], entry["caption"]) == ("fleet", "Fleet")


def test_workers_section_lists_capabilities_limits_and_reservations(config) -> None:
    got = page(config)
    two = row(got, "fleet-worker", "data-worker", "two-pg")
    assert "postgresql 13 port=5433" in two and "postgresql 15 port=5434" in two
    assert "workers.cfg:1" in two
    # state, capabilities, max-builds, priority, reservations, builders
    assert re.search(r"unknown .* 2 7 - 4$", two), two
    reserved = row(got, "fleet-worker", "data-worker", "reserved")
    assert "fakelib 1.0" in reserved and " fakelib 0" in reserved


def test_connected_state_and_host_come_from_the_master_at_request_time(config) -> None:
    api = FakeApi([
        {"name": "two-pg", "connected_to": [{"masterid": 1}], "workerinfo": {"host": "box-a"}},
        {"name": "one-pg", "connected_to": [], "workerinfo": {}},
    ])
    got = page(config, api=api)
    assert "connected" in row(got, "fleet-worker", "data-worker", "two-pg").split()
    assert "box-a" in row(got, "fleet-worker", "data-worker", "two-pg")
    assert "not connected" in row(got, "fleet-worker", "data-worker", "one-pg")
    assert "not connected" in row(got, "fleet-worker", "data-worker", "reserved")
    assert "(1 connected)" in text_of(got)
    api.workers[1]["connected_to"] = [{"masterid": 1}]      # asked again: live
    assert "(2 connected)" in text_of(page(config, api=api))


def test_builders_show_the_chosen_instance_and_the_closest_miss_first(config) -> None:
    got = page(config)
    below = row(got, "fleet-builder", "data-builder", "below-15")
    assert "runs on 2 of 3 workers" in below
    assert "Buildout [below-15] (buildouts/MANIFEST.cfg:4); requires postgresql < 15" in below
    # two-pg has 13 and 15: the plan chose 13; one-pg has only 12
    assert "two-pg postgresql 13 port=5433 (chosen among several)" in below
    assert "one-pg postgresql 12 port=6000 host=" in below
    assert "reserved has no postgresql (and 1 more)" in below
    matrix = row(got, "fleet-builder", "data-builder", "matrix-pg15")
    assert "build-for postgresql == 15" in matrix
    # one-pg has postgresql in another version: closer than reserved, which has none
    assert matrix.index("one-pg has postgresql 12; needs == 15") \
        < matrix.index("reserved has no postgresql (needs 15)")


def test_builders_without_worker_and_warnings_say_file_and_line(config) -> None:
    got = page(config)
    unbuilt = text_of(section(got, "fleet-unbuilt"))
    assert ("needs-oracle buildouts/MANIFEST.cfg:12 one-pg has oracle 11; needs >= 19"
            in unbuilt)
    warnings = text_of(section(got, "fleet-warnings"))
    assert ("buildouts/MANIFEST.cfg:16 capability build-requires: no worker declares "
            "capability 'postgres'" in warnings)
    assert "did you mean 'postgresql'?" in warnings


def test_user_text_is_escaped_everywhere(config) -> None:
    api = FakeApi([{"name": "one-pg", "connected_to": [],
                    "workerinfo": {"host": '<img src=x onerror="alert(2)">'}}])
    got = page(config, '?q="><script>alert(3)</script>', api=api)
    assert "<script>alert" not in got and "<img src=x" not in got
    assert '"><script>' not in got
    got = page(config, api=api)
    assert "host=&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#34;q&#39;" in got
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in got
    assert f"host={HOSTILE}" in text_of(got)


def test_no_password_and_no_secret_value_on_the_page(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "one_pg_pass").write_text("secret-Value-42")
    config = load(tmp_path / "m", kwargs="")
    got = page(config)
    assert PASSWORD not in got
    assert "secret-Value-42" not in got
    assert "one_pg_pass" not in got


def test_plan_text_shows_the_same_instance_choice_as_the_page(config, tmp_path: Path) -> None:
    from anybox_buildbot.masterload import load_master

    root = tmp_path / "m"
    load(root)
    (conf,) = load_master(str(root)).configurators
    text = format_text(load_master(str(root)).data())
    got = page(config)
    pairs = chosen_instances(conf.plan, conf.worker_specs)
    assert pairs["below-15"] == {"two-pg": ["postgresql 13 port=5433"]}
    for builder, workers in pairs.items():
        shown = row(got, "fleet-builder", "data-builder", builder)
        for worker, lines in workers.items():
            assert f"{worker} {'; '.join(lines)} (chosen among several)" in shown
            assert re.search(rf"^{re.escape(builder)} +{worker} +{re.escape('; '.join(lines))}$",
                             text, re.M), text


def test_many_builders_come_in_pages_and_a_filter_narrows_every_section(
        tmp_path: Path) -> None:
    manifest = "[DEFAULT]\nbuildout = standalone plain.cfg\n" + "".join(
        f"\n[app-{n:02d}]\n" for n in range(60))
    config = load(tmp_path, manifest=manifest)
    first = page(config)
    assert "Builders (60, page 1 of 3)" in text_of(first)
    assert first.count('class="fleet-builder"') == 25
    assert 'href="/index.html?q=&amp;page=2"' in first
    second = page(config, "?page=2")
    assert 'data-builder="app-25"' in second and 'data-builder="app-24"' not in second
    for bad in ("?page=abc", "?page=-1", "?page=0", "?page=%EF%BC%92", "?page=9999999"):
        assert 'data-builder="app-00"' in page(config, bad), bad
    assert 'data-builder="app-59"' in page(config, "?page=99")      # clamped to the last
    narrowed = page(config, "?q=APP-5")
    assert narrowed.count('class="fleet-builder"') == 10
    assert 'data-worker="two-pg"' not in narrowed


def test_fleet_page_false_adds_no_page(tmp_path: Path) -> None:
    config = load(tmp_path, kwargs=", fleet_page=False")
    assert "wsgi_dashboards" not in config.www["plugins"]


def test_fleet_page_argument_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigErrors) as info:
        load(tmp_path, kwargs=", fleet_page='no'")
    assert ("BuildoutsConfigurator argument fleet_page: expected True or False, "
            "got str 'no'") in info.value.errors


def test_builders_get_a_description(config) -> None:
    described = {b.name: b.description for b in config.builders}
    assert described["matrix-pg13"] == ("Buildout [matrix] (buildouts/MANIFEST.cfg:7); "
                                        "build-for postgresql == 13")
    assert described["plain"] == "Buildout [plain] (buildouts/MANIFEST.cfg:10)"


def test_a_reload_makes_a_new_page_from_the_new_files(tmp_path: Path) -> None:
    first = page(load(tmp_path))
    assert 'data-worker="reserved"' in first
    second = page(load(tmp_path, workers=WORKERS.split("[reserved]")[0]))
    assert 'data-worker="reserved"' not in second
