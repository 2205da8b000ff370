"""``anybox-buildbot migrate`` (issue 15, item 3): our own files in the
shapes the users of anybox.buildbot.odoo wrote go through ``migrate``,
then load without error nor deprecation warning, and give the builders,
workers and watched repositories those users expect."""

from __future__ import annotations

from pathlib import Path

from anybox_buildbot import BuildoutsConfigurator
from anybox_buildbot.cli import main
from anybox_buildbot.migrate import migrate_manifest, migrate_workers

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
"""

OLD_WORKERS = """\
# one section per worker
[pg-box]
passwd = first
capability = postgresql 9.6 port=5432
             postgresql 13 port=5433
             python 2.7 bin=/usr/bin/python2.7
worker_priority = 1.5

[private-box]
password = second
capability = postgresql 13
             private-code-access
worker_priority = 2
max_builds = 2
"""


def test_manifest_diff_and_what_is_left() -> None:
    migration = migrate_manifest(OLD_MANIFEST, "MANIFEST.cfg")
    new = migration.new
    assert "buildout-version = 2.13.8" in new and "bootstrap-version" not in new
    assert "install-modules-test.addons = sale, stock" in new
    assert "install-modules-test.addons = crm" in new
    assert "post-buildout-steps = install-modules-test\n" in new
    assert "post-buildout-steps = sphinx-doc" in new
    assert "sphinx-doc.source = doc" in new
    assert "env.PGCLUSTER = %(pg_version:-)s/main" in new
    assert "# shared by every buildout" in new          # comments stay
    assert "-bootstrap-version = 2.13.8" in migration.diff()
    assert migration.left == [
        "MANIFEST.cfg:17: [shop-16.0-docs] doc.upload-dir: no equivalent option of "
        "sphinx-doc (options: source, build-dir, command, args)",
        "MANIFEST.cfg:26: [hg-project] bootstrap-virtualenv: the bootstrap always makes a "
        "virtualenv here",
        "MANIFEST.cfg:35: [bare]: the original's default install-modules-test needs a "
        "module list here (odoo-addons): the section keeps our default, "
        "post-buildout-steps = test",
    ]


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
    assert code == 1 and "could not convert (3):" in out
    assert f"+++ {workers} (anybox_buildbot)" in out
    manifest.write_text("\n".join(line for line in manifest.read_text().splitlines()
                                  if not line.startswith(("doc.upload-dir",
                                                          "bootstrap-virtualenv"))) + "\n")
    conf = BuildoutsConfigurator(str(root), {})
    conf.populate()
    assert not [d for d in conf.warnings.diagnostics if d.category == "deprecation"]
    builders = {b.name: b for b in conf.config["builders"]}
    assert sorted(builders) == ["bare", "hg-project", "release", "shop-16.0-docs-pg13",
                                "shop-16.0-docs-pg9.6", "shop-16.0-pg13", "shop-16.0-pg9.6"]
    assert builders["hg-project"].workernames == ["private-box"]
    assert builders["shop-16.0-pg9.6"].workernames == ["pg-box"]
    assert builders["shop-16.0-pg9.6"].tags == ["mature"]
    workers = {w.name: w for w in conf.config["workers"]}
    assert workers["pg-box"].password == "first"
    assert workers["pg-box"].properties.getProperty("worker_priority") == 15
    polled = sorted(s.name for s in conf.config["change_source"])
    assert polled == ["anybox-git:https://git.example.com/shop/addons.git",
                      "anybox-git:https://git.example.com/shop/buildout.git",
                      "anybox-hg:https://hg.example.com/project"]
    spec = conf.buildouts["shop-16.0"]
    assert spec.db_steps == ("simple_create",) and spec.buildout_part == "odoo"
    assert spec.post_buildout_steps == ("install-modules-test",)
    assert spec.buildout_version == "2.13.8"
    # a second run has nothing left to do on the workers
    assert migrate_workers(workers_text := (root / "workers.cfg").read_text()).new \
        == workers_text
