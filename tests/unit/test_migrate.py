"""``anybox-buildbot migrate`` (issue 15, item 3): our own files in the
shapes the users of anybox.buildbot.odoo wrote go through ``migrate``,
then load without error nor deprecation warning, and give the builders,
workers and watched repositories those users expect."""

from __future__ import annotations

from pathlib import Path

from anybox_buildbot import BuildoutsConfigurator
from anybox_buildbot.cli import main
from anybox_buildbot.migrate import migrate_manifest
from anybox_buildbot.migrateworkers import migrate_workers

OLD_MANIFEST = """\
[DEFAULT]
# shared by every buildout
bootstrap-version = 2.13.8

[shop-16.0]
buildout = git https://git.example.com/shop/buildout.git 16.0 buildout.cfg
watch = git https://git.example.com/shop/addons.git 16.0
odoo-addons = sale, stock
build-for = postgresql >= 9.6
build-category = mature

[shop-16.0-docs]
buildout = git https://git.example.com/shop/buildout.git 16.0 buildout.cfg
build-for = postgresql >= 9.6
post-buildout-steps = doc
doc.sphinx-sourcedir = doc
doc.upload-dir = shop

[hg-project]
buildout = hg https://hg.example.com/project default buildout.cfg
buildout-part = openerp
openerp-addons = crm
post-buildout-steps = test-openerp
build-requires = private-code-access
env.PGCLUSTER = %(prop:pg_version:-)s/main
bootstrap-virtualenv = true

[release]
buildout = gittag https://git.example.com/shop/buildout.git buildout.cfg
watch =
post-buildout-steps = install-modules-test
install-modules-test.addons = sale

[bare]
buildout = standalone bare.cfg

[ocb-7.0]
buildout = bzr lp:~acme/ocb-buildout/7.0 buildout.cfg
buildout-part = openerp
post-buildout-steps = openerpcommand-initialize-tests
openerp-addons = crm
odoo.use-port = true
build-for = postgresql >= 9.6 < 10 OR == 13

[funkload]
buildout = hg https://hg.example.com/funkload default buildout.cfg
watch = hg https://hg.example.com/funkload-addons default
        git https://git.example.com/shop/addons.git 16.0
odoo-addons = sale
post-buildout-steps = install-modules-test
                      functional
functional.commands = examples/sales/run.sh examples/stock/run.sh
functional.parts = funkload
functional.wait = 45
functional.port-step = 5
start-command = bin/start_shop
build-requires = debian-based
build-for = postgresql == 13

[funkload-ported]
inherit = funkload
odoo.use-port = true
odoo.http-port-min = 7100
odoo.http-port-max = 7199
"""

OLD_WORKERS = """\
# one section per worker
[pg-box]
passwd = first
capability = postgresql 9.6 port=5432
             postgresql 13 port=5433 bin=/usr/lib/postgresql/13/bin lib=/usr/lib/postgresql/13/lib
             python 2.7 bin=/usr/bin/python2.7
             debian-based
worker_priority = 1.5
notify_on_missing = ci@example.com

[private-box]
password = second
capability = postgresql 13
\t     private-code-access
build-only-if-requires = private-code-access
worker_priority = 2
max_builds = 2
"""


def test_manifest_diff_and_what_is_left() -> None:
    migration = migrate_manifest(OLD_MANIFEST, "MANIFEST.cfg")
    new = migration.new
    assert "buildout-version = 2.13.8" in new and "bootstrap-version" not in new
    assert "# shared by every buildout" in new          # comments stay
    assert "-bootstrap-version = 2.13.8" in migration.diff()
    # the original's default build, in one line; its script bin/start_odoo
    assert {"buildout-part = start_odoo", "post-buildout-steps = odoo-default",
            "odoo-default.addons = sale, stock"} <= set(section(new, "shop-16.0"))
    assert "db-steps" not in new.split("[shop-16.0-docs]")[0]
    assert {"buildout-part = start_odoo", "post-buildout-steps = odoo-default"} <= set(
        section(new, "bare"))
    # a section naming its steps gets the original's default database
    assert {"post-buildout-steps = sphinx-doc", "sphinx-doc.source = doc",
            "db-steps = simple_create"} <= set(section(new, "shop-16.0-docs"))
    assert {"buildout-part = start_openerp", "install-modules-test.addons = crm",
            "post-buildout-steps = install-modules-test", "db-steps = simple_create",
            "env.PGCLUSTER = %(pg_version:-)s/main"} <= set(section(new, "hg-project"))
    # openerp-command keeps the part: bin/openerp_command; the port as before
    assert section(new, "ocb-7.0")[1:7] == [
        "buildout-part = openerp", "post-buildout-steps = openerpcommand-initialize-tests",
        "openerpcommand-initialize-tests.addons = crm",
        "openerpcommand-initialize-tests.port = true",
        "openerpcommand-initialize-tests.ports = 6069-7068",
        "build-for = postgresql >= 9.6 < 10 OR == 13"]
    # the original's functional: a server on a reserved port, scripts given
    # the port and the database, one per line; start-command is the script
    funkload = section(new, "funkload")
    assert funkload[6:12] == [
        "functional-odoo.port_db_args = true", "functional-odoo.port_option = --xmlrpc-port",
        "functional-odoo.commands = examples/sales/run.sh", "    examples/stock/run.sh",
        "functional-odoo.parts = funkload", "functional-odoo.wait = 45"]
    assert funkload[4:6] == ["post-buildout-steps = install-modules-test",
                             "                      functional-odoo"]
    assert {"buildout-part = start_shop", "functional-odoo.ports = 9069-10068"} <= set(funkload)
    assert not [line for line in funkload if line.startswith(("start-command", "functional."))]
    # inherited: only what differs, one range for the build's one port
    assert section(new, "funkload-ported") == [
        "inherit = funkload", "install-modules-test.port = true",
        "install-modules-test.port_option = --xmlrpc-port",
        "install-modules-test.ports = 7100-7199", "functional-odoo.ports = 7100-7199"]
    assert "MANIFEST.cfg:55: [funkload] functional.port-step: removed (a build takes one " \
        "port here)" in migration.changes
    assert migration.left == [
        "MANIFEST.cfg:17: [shop-16.0-docs] doc.upload-dir: no equivalent option of "
        "sphinx-doc (options: source, build-dir, command, args)",
        "MANIFEST.cfg:26: [hg-project] bootstrap-virtualenv: the bootstrap always makes a "
        "virtualenv here",
    ]


def section(text: str, name: str) -> list[str]:
    """The non-empty lines of section ``[name]`` of ``text``."""
    lines = text.split(f"[{name}]\n", 1)[1].split("\n[", 1)[0].splitlines()
    return [line for line in lines if line.strip()]


def test_workers_diff() -> None:
    migration = migrate_workers(OLD_WORKERS, "workers.cfg")
    assert "password = first" in migration.new
    assert "python 2.7 executable=/usr/bin/python2.7" in migration.new
    # scaled together: the order stays
    assert "worker_priority = 15\n" in migration.new
    assert "worker_priority = 20\n" in migration.new
    assert migration.left == []


def write_old_master(root: Path) -> Path:
    (root / "buildouts").mkdir(parents=True)
    (root / "buildouts" / "MANIFEST.cfg").write_text(OLD_MANIFEST)
    (root / "buildouts" / "bare.cfg").write_text("[buildout]\nparts =\n")
    (root / "workers.cfg").write_text(OLD_WORKERS)
    return root


def test_migrated_files_load_as_the_original_users_expect(tmp_path: Path, capsys) -> None:
    root = write_old_master(tmp_path)
    manifest, workers = root / "buildouts" / "MANIFEST.cfg", root / "workers.cfg"
    # unconvertible lines are refused or noted by the loader: remove them
    # as the printed list tells
    code = main(["migrate", "--manifest", str(manifest), "--workers", str(workers),
                 "--write"])
    out = capsys.readouterr().out
    assert code == 1 and "could not convert (2):" in out
    assert f"+++ {workers} (anybox_buildbot)" in out
    manifest.write_text("\n".join(line for line in manifest.read_text().splitlines()
                                  if not line.startswith(("doc.upload-dir",
                                                          "bootstrap-virtualenv"))) + "\n")
    conf = BuildoutsConfigurator(str(root), {})
    conf.populate()
    # bzr is not polled here: said once, as a warning; nothing else to say
    assert conf.warnings.messages == [
        "buildouts/MANIFEST.cfg:44: bzr repository lp:~acme/ocb-buildout/7.0 is not polled "
        "(Buildbot 4 has no bzr poller); buildouts ocb-7.0 build on force or nightly only"]
    builders = {b.name: b for b in conf.config["builders"]}
    # one builder per PostgreSQL version build-for allows (OR included)
    # and some worker has; private-box runs only what requires its code
    # access (build-only-if-requires), on its own
    assert {name: b.workernames for name, b in builders.items()} == {
        "bare": ["pg-box"], "funkload-pg13": ["pg-box"], "funkload-ported-pg13": ["pg-box"],
        "hg-project": ["private-box"], "ocb-7.0-pg13": ["pg-box"],
        "ocb-7.0-pg9.6": ["pg-box"], "release": ["pg-box"],
        "shop-16.0-docs-pg13": ["pg-box"], "shop-16.0-docs-pg9.6": ["pg-box"],
        "shop-16.0-pg13": ["pg-box"], "shop-16.0-pg9.6": ["pg-box"]}
    assert builders["shop-16.0-pg9.6"].tags == ["mature"]
    workers = {w.name: w for w in conf.config["workers"]}
    assert workers["pg-box"].password == "first"
    assert workers["pg-box"].properties.getProperty("worker_priority") == 15
    assert workers["private-box"].properties.getProperty("worker_priority") == 20
    # the buildouts' own git/hg repositories and their watch lines
    polled = sorted(s.name for s in conf.config["change_source"])
    assert polled == ["anybox-git:https://git.example.com/shop/addons.git",
                      "anybox-git:https://git.example.com/shop/buildout.git",
                      "anybox-hg:https://hg.example.com/funkload",
                      "anybox-hg:https://hg.example.com/funkload-addons",
                      "anybox-hg:https://hg.example.com/project"]
    spec = conf.buildouts["shop-16.0"]
    assert spec.post_buildout_steps == ("odoo-default",) and spec.db_steps == ()
    assert spec.buildout_part == "start_odoo" and spec.buildout_version == "2.13.8"
    assert spec.step_options["odoo-default"]["addons"] == ("sale", "stock")
    assert conf.buildouts["bare"].step_options["odoo-default"]["addons"] == ("all",)
    hg = conf.buildouts["hg-project"]
    assert (hg.db_steps, hg.post_buildout_steps) == (("simple_create",),
                                                     ("install-modules-test",))
    ocb = conf.buildouts["ocb-7.0"]
    assert ocb.buildout_part == "openerp"
    assert ocb.step_options["openerpcommand-initialize-tests"]["port"] is True
    funkload = conf.buildouts["funkload"]
    assert funkload.buildout_part == "start_shop"
    functional = funkload.step_options["functional-odoo"]
    assert functional["commands"] == (("examples/sales/run.sh",), ("examples/stock/run.sh",))
    assert functional["port_db_args"] is True and functional["wait"] == 45
    assert functional["port_option"] == "--xmlrpc-port" and functional["parts"] == ("funkload",)
    ported = conf.buildouts["funkload-ported"].step_options
    assert str(ported["functional-odoo"]["ports"]) == "7100-7199"
    assert str(ported["install-modules-test"]["ports"]) == "7100-7199"
    # a second run has nothing left to do
    for path, again in ((root / "workers.cfg", migrate_workers),
                        (manifest, migrate_manifest)):
        text = path.read_text()
        assert again(text).new == text, path


def test_diff_never_shows_a_password(tmp_path: Path, capsys) -> None:
    """Renaming ``passwd`` puts its value on the -/+ lines, and a
    ``password`` line next to a change is context: both show ``***``; a
    secret's name may stay."""
    text = ("[pg-box]\npasswd = Fi7st-s3cret\ncapability = python 2.7 bin=/usr/bin/python2.7\n"
            "password: Sec0nd-s3cret\n"
            "[vault-box]\npasswd = %(secret:vault_box)s\n")
    migration = migrate_workers(text, "workers.cfg")
    assert "password = Fi7st-s3cret" in migration.new   # the file itself keeps it
    diff = migration.diff()
    assert "-passwd = ***\n" in diff and "+password = ***\n" in diff
    assert " password: ***\n" in diff
    assert "+password = %(secret:vault_box)s\n" in diff
    workers = tmp_path / "workers.cfg"
    workers.write_text(text)
    assert main(["migrate", "--workers", str(workers)]) == 0
    out = capsys.readouterr().out
    everything = "\n".join([out, diff, *migration.changes, *migration.left])
    assert "s3cret" not in everything
    assert "+password = ***" in out
