"""MANIFEST.cfg -> BuildoutSpec: options, defaults, inherit, several files."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from unit_helpers import GIT, write

from anybox_buildbot.buildoutspec import DEFAULT_BUILDOUT_VERSION, Source, Watch
from anybox_buildbot.cron import parse_cron
from anybox_buildbot.errors import Errors, Location
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.template import Ref


def test_defaults(load_manifest_text):
    (spec,) = load_manifest_text(f"[app]\n{GIT}\n").values()
    assert spec.post_buildout_steps == ("test",)
    assert spec.post_dl_steps == ()
    assert spec.db_steps == ()
    assert spec.step_sets == ("test",)
    assert spec.test_command == ("bin/test",)
    assert spec.tree_stable_timer is None     # the master's default (600 unless set)
    assert spec.buildout_version == DEFAULT_BUILDOUT_VERSION
    assert spec.watch is None
    assert spec.auto_watch is False
    assert spec.git_shallow is False
    assert spec.nightly is None
    assert spec.build_requires == ()
    assert spec.build_for == ()
    assert spec.category == ()
    assert spec.buildout_options == ()
    assert spec.buildout_part is None
    assert spec.env == ()
    assert spec.step_options == {}


def test_every_option(load_manifest_text, tmp_path):
    specs = load_manifest_text("""
        [app]
        buildout = git https://example.com/app.git main buildout.cfg subdir=deploy
        build-requires = postgresql >= 9.6
                         python >= 3.9, != 3.10
        build-for = postgresql >= 13
        build-category = odoo, nightly odoo
        watch = git https://example.com/app.git main
                hg https://hg.example.com/lib default
                bzr lp:tool
                git https://example.com/app.git main
        auto-watch = yes
        tree-stable-timer = 30
        nightly = 0 3 * * 1-5
        buildout-version = 3.0.1
        buildout-options = buildout:newest=false
                           versions:psycopg2=2.9.9
        buildout-part = openerp
        post-dl-steps = fetch-data
        db-steps = simple_create, final_dropdb
        post-buildout-steps = pytest functional
        test-command = bin/test -k "not slow" --junit=out.xml
        git-shallow = on
        env.PGDATA = /srv/%(buildername)s
        env.TZ = UTC
        pytest.args = -x --timeout 60
        functional.commands = bin/a
                              bin/b
        """)
    spec = specs["app"]
    manifest = str(tmp_path / "MANIFEST0.cfg")
    assert spec.location == Location(manifest, 1)
    assert spec.source == Source("git", Location(manifest, 2),
                                 url="https://example.com/app.git", branch="main",
                                 cfg="buildout.cfg", subdir="deploy")
    assert spec.source.vcs == "git" and not spec.source.is_tag
    assert [str(r) for r in spec.build_requires] == ["postgresql >= 9.6",
                                                      "python >= 3.9 != 3.10"]
    assert [str(r) for r in spec.build_for] == ["postgresql >= 13"]
    assert spec.capability_names == ("postgresql", "python")
    assert spec.category == ("odoo", "nightly")
    assert spec.watch == (
        Watch("git", "https://example.com/app.git", "main"),
        Watch("hg", "https://hg.example.com/lib", "default"),
        Watch("bzr", "lp:tool", None),
    )
    assert spec.watch[1].location == Location(manifest, 8)
    assert spec.auto_watch is True
    assert spec.tree_stable_timer == 30
    assert spec.nightly == parse_cron("0 3 * * 1-5")
    assert spec.nightly.day_of_week == (0, 1, 2, 3, 4)   # parsed on load, Monday = 0
    assert spec.buildout_version == "3.0.1"
    assert [(s, o, v.text) for s, o, v in spec.buildout_options] == [
        ("buildout", "newest", "false"), ("versions", "psycopg2", "2.9.9")]
    assert spec.buildout_part == "openerp"
    assert spec.post_dl_steps == ("fetch-data",)
    assert spec.db_steps == ("simple_create", "final_dropdb")
    assert spec.post_buildout_steps == ("pytest", "functional")
    assert spec.step_sets == ("fetch-data", "simple_create", "final_dropdb", "pytest",
                              "functional")
    assert spec.test_command == ("bin/test", "-k", "not slow", "--junit=out.xml")
    assert spec.git_shallow is True
    assert [(var, t.text) for var, t in spec.env] == [("PGDATA", "/srv/%(buildername)s"),
                                                       ("TZ", "UTC")]
    assert spec.env[0][1].parts == ("/srv/", Ref("buildername", False, None, ""))
    assert spec.step_options == {"pytest": {"args": "-x --timeout 60"},
                                 "functional": {"commands": "bin/a\nbin/b"}}
    assert spec.step_option_locations["functional.commands"] == Location(manifest, 26)


@pytest.mark.parametrize(("line", "kind", "url", "branch", "cfg", "subdir", "vcs", "is_tag"), [
    ("git https://h/r.git main buildout.cfg", "git", "https://h/r.git", "main",
     "buildout.cfg", None, "git", False),
    ("git git@h:r.git 16.0 prod.cfg subdir=odoo", "git", "git@h:r.git", "16.0", "prod.cfg",
     "odoo", "git", False),
    ("hg https://h/r default buildout.cfg", "hg", "https://h/r", "default", "buildout.cfg",
     None, "hg", False),
    ("bzr lp:project buildout.cfg", "bzr", "lp:project", None, "buildout.cfg", None, "bzr",
     False),
    ("gittag https://h/r.git release.cfg", "gittag", "https://h/r.git", None, "release.cfg",
     None, "git", True),
    ("gittag https://h/r.git release.cfg subdir=x", "gittag", "https://h/r.git", None,
     "release.cfg", "x", "git", True),
    ("hgtag https://h/r release.cfg", "hgtag", "https://h/r", None, "release.cfg", None, "hg",
     True),
    ("archive https://h/app-%(prop:version)s.tar.gz buildout.cfg", "archive",
     "https://h/app-%(prop:version)s.tar.gz", None, "buildout.cfg", None, None, False),
])
def test_source_kinds(load_manifest_text, line, kind, url, branch, cfg, subdir, vcs, is_tag):
    spec = load_manifest_text(f"[b]\nbuildout = {line}\n")["b"]
    source = spec.source
    assert (source.kind, source.url, source.branch, source.cfg, source.subdir) == (
        kind, url, branch, cfg, subdir)
    assert source.path is None
    assert source.vcs == vcs
    assert source.is_tag is is_tag


def test_standalone_path_is_relative_to_the_manifest(tmp_path):
    write(tmp_path, "buildouts/app.cfg", "[buildout]\n")
    write(tmp_path, "buildouts/sub/other.cfg", "[buildout]\n")
    manifest = write(tmp_path, "buildouts/MANIFEST.cfg", f"""
        [app]
        buildout = standalone app.cfg
        [other]
        buildout = standalone sub/other.cfg
        [absolute]
        buildout = standalone {tmp_path}/buildouts/app.cfg
        """)
    errors = Errors()
    specs = {s.name: s for s in load_manifests([manifest], errors)}
    assert errors.messages == []
    assert specs["app"].source.path == (tmp_path / "buildouts/app.cfg").resolve()
    assert specs["app"].source.cfg == "buildout.cfg"
    assert specs["app"].source.vcs is None
    assert specs["other"].source.path == (tmp_path / "buildouts/sub/other.cfg").resolve()
    assert specs["absolute"].source.path == specs["app"].source.path


def test_inherited_standalone_path_is_relative_to_the_manifest_that_wrote_it(tmp_path):
    """A section inheriting across manifests in different folders must find the
    file the parent's manifest points to."""
    write(tmp_path, "a/app.cfg", "[buildout]\n")
    first = write(tmp_path, "a/MANIFEST.cfg", "[base]\nbuildout = standalone app.cfg\n")
    second = write(tmp_path, "b/MANIFEST.cfg", "[child]\ninherit = base\n")
    errors = Errors()
    specs = {s.name: s for s in load_manifests([first, second], errors)}
    assert errors.messages == []
    assert specs["child"].source.path == (tmp_path / "a/app.cfg").resolve()


def load_errors(*manifests: Path) -> tuple[dict, list[str]]:
    errors = Errors()
    specs = {s.name: s for s in load_manifests(manifests, errors)}
    return specs, errors.messages


def test_standalone_symlink_leaving_the_folder_is_refused(tmp_path):
    """A symlink inside the manifest's folder is followed: the file it points
    to must be inside too, or a manifest could ship any file of the master."""
    secret = write(tmp_path, "secrets/token", "s3cret\n")
    write(tmp_path, "buildouts/real.cfg", "[buildout]\n")
    (tmp_path / "buildouts/token.cfg").symlink_to(secret)
    (tmp_path / "buildouts/linked-dir").symlink_to(tmp_path / "secrets")
    (tmp_path / "buildouts/alias.cfg").symlink_to("real.cfg")
    manifest = write(tmp_path, "buildouts/MANIFEST.cfg", """
        [leak]
        buildout = standalone token.cfg
        [leak-dir]
        buildout = standalone linked-dir/token
        [alias]
        buildout = standalone alias.cfg
        """)
    specs, messages = load_errors(manifest)
    assert messages == [
        f"{manifest}:2: buildout [leak] buildout: standalone buildout file outside the "
        f"manifest's folder: 'token.cfg' (must resolve inside {tmp_path / 'buildouts'} "
        "(symlinks are followed); copy the file there)",
        f"{manifest}:4: buildout [leak-dir] buildout: standalone buildout file outside the "
        f"manifest's folder: 'linked-dir/token' (must resolve inside "
        f"{tmp_path / 'buildouts'} (symlinks are followed); copy the file there)"]
    assert specs["alias"].source.path == (tmp_path / "buildouts/real.cfg")


def test_standalone_outside_does_not_tell_whether_the_file_exists(tmp_path):
    """The same message for an existing and a missing file outside: a manifest
    author cannot probe the master's file system with it."""
    write(tmp_path, "secrets/token", "s3cret\n")
    manifest = write(tmp_path, "buildouts/MANIFEST.cfg", """
        [a]
        buildout = standalone ../secrets/token
        [b]
        buildout = standalone ../secrets/nothing
        """)
    _specs, messages = load_errors(manifest)
    assert len(messages) == 2
    assert "outside the manifest's folder" in messages[0]
    assert messages[1] == messages[0].replace(":2: buildout [a]", ":4: buildout [b]").replace(
        "secrets/token", "secrets/nothing")


def test_inherited_standalone_stays_in_the_parent_manifest_folder(tmp_path):
    """An inherited ``buildout`` line is checked against the folder of the
    manifest that wrote it, not the child's."""
    write(tmp_path, "b/app.cfg", "[buildout]\n")
    first = write(tmp_path, "a/MANIFEST.cfg", "[base]\nbuildout = standalone ../b/app.cfg\n")
    second = write(tmp_path, "b/MANIFEST.cfg", "[child]\ninherit = base\n")
    _specs, messages = load_errors(first, second)
    # once, at the line that wrote it, naming the section that inherits it
    (message,) = messages
    assert message.startswith(f"{first}:2: buildout [base] buildout, inherited by [child]: ")
    assert "outside the manifest's folder" in message


@pytest.mark.parametrize(("line", "cfg", "subdir"), [
    ("git https://h/r.git main conf/prod.cfg", "conf/prod.cfg", None),
    ("git https://h/r.git main ./buildout.cfg subdir=odoo/addons", "./buildout.cfg",
     "odoo/addons"),
    ("hg https://h/r default deep/er/b.cfg", "deep/er/b.cfg", None),
    ("archive https://h/a.tgz proj-1.0/buildout.cfg", "proj-1.0/buildout.cfg", None),
    ("gittag https://h/r.git b..c.cfg subdir=x.y", "b..c.cfg", "x.y"),
    ("bzr lp:x caf\u00e9/b.cfg", "caf\u00e9/b.cfg", None),
])
def test_paths_inside_the_checkout_are_accepted(load_manifest_text, line, cfg, subdir):
    source = load_manifest_text(f"[b]\nbuildout = {line}\n")["b"].source
    assert (source.cfg, source.subdir) == (cfg, subdir)


@pytest.mark.parametrize("name", ["odoo-8.0-pg9.3", "anybox.buildbot.openerp", "openerp-6.1",
                                  "App_2+x", "9", "a" * 100])
def test_section_names_of_earlier_manifests_still_load(load_manifest_text, name):
    """Names people use with anybox.buildbot.odoo keep working."""
    assert name in load_manifest_text(f"[{name}]\n{GIT}\n")


def test_a_bad_section_name_gives_no_buildout(tmp_path):
    manifest = write(tmp_path, "MANIFEST.cfg", f"[../x]\n{GIT}\n[good]\n{GIT}\n")
    specs, messages = load_errors(manifest)
    assert list(specs) == ["good"]
    assert len(messages) == 1 and messages[0].startswith(f"{manifest}:1: invalid buildout name")


def test_default_section(load_manifest_text):
    specs = load_manifest_text(f"""
        [DEFAULT]
        {GIT}
        tree-stable-timer = 120
        build-category = all
        pytest.args = -q

        [one]

        [two]
        tree-stable-timer = 5
        pytest.args = -x
        """)
    assert sorted(specs) == ["one", "two"]
    assert specs["one"].tree_stable_timer == 120
    assert specs["two"].tree_stable_timer == 5
    assert specs["one"].category == specs["two"].category == ("all",)
    assert specs["one"].step_options == {"pytest": {"args": "-q"}}
    assert specs["two"].step_options == {"pytest": {"args": "-x"}}
    assert specs["one"].source.url == "https://example.com/app.git"


def test_inherit_chain(load_manifest_text, tmp_path):
    specs = load_manifest_text(f"""
        [DEFAULT]
        build-category = default-cat
        nightly = 0 1 * * *

        [grandchild]
        inherit = child
        tree-stable-timer = 3

        [base]
        {GIT}
        tree-stable-timer = 1
        test-command = bin/base
        env.A = base
        pytest.args = -base

        [child]
        inherit = base
        test-command = bin/child
        env.B = child
        build-category = child-cat
        """)
    base, child, grandchild = specs["base"], specs["child"], specs["grandchild"]
    assert base.test_command == ("bin/base",)
    assert child.test_command == ("bin/child",)          # child overrides parent
    assert grandchild.test_command == ("bin/child",)     # ... down the chain
    assert (base.tree_stable_timer, child.tree_stable_timer,
            grandchild.tree_stable_timer) == (1, 1, 3)
    assert grandchild.source == base.source               # from the top of the chain
    assert [v for v, _ in grandchild.env] == ["A", "B"]
    assert grandchild.step_options == {"pytest": {"args": "-base"}}
    assert base.category == ("default-cat",)              # DEFAULT fills
    assert child.category == grandchild.category == ("child-cat",)
    assert grandchild.nightly is not None and grandchild.nightly.text == "0 1 * * *"
    # each option keeps the line where it is written (in the parent)
    assert grandchild.source.location == Location(str(tmp_path / "MANIFEST0.cfg"), 10)
    assert grandchild.location == Location(str(tmp_path / "MANIFEST0.cfg"), 5)


def test_own_option_wins_over_default_and_parent(load_manifest_text):
    specs = load_manifest_text(f"""
        [DEFAULT]
        tree-stable-timer = 100
        [base]
        {GIT}
        tree-stable-timer = 200
        [child]
        inherit = base
        """)
    # the parent's own value beats DEFAULT for the child
    assert specs["child"].tree_stable_timer == 200


def test_several_manifests(load_manifest_text, tmp_path):
    specs = load_manifest_text(f"[a]\n{GIT}\n", f"[b]\n{GIT}\n[c]\ninherit = a\n")
    assert sorted(specs) == ["a", "b", "c"]
    assert specs["b"].location.file == str(tmp_path / "MANIFEST1.cfg")
    assert specs["c"].source == specs["a"].source      # inherit across manifests


def test_default_of_one_manifest_does_not_leak_into_another(load_manifest_text):
    specs = load_manifest_text(f"[DEFAULT]\ntree-stable-timer = 1\n[a]\n{GIT}\n",
                               f"[b]\n{GIT}\n")
    assert specs["a"].tree_stable_timer == 1
    assert specs["b"].tree_stable_timer is None    # the master's default


@pytest.mark.parametrize(("value", "expected"), [
    ("true", True), ("True", True), ("yes", True), ("on", True), ("1", True),
    ("false", False), ("FALSE", False), ("no", False), ("off", False), ("0", False),
])
def test_booleans(load_manifest_text, value, expected):
    spec = load_manifest_text(f"[a]\n{GIT}\nauto-watch = {value}\ngit-shallow = {value}\n")["a"]
    assert spec.auto_watch is expected
    assert spec.git_shallow is expected


@pytest.mark.parametrize("command", [
    "bin/test",
    "bin/pytest -x tests/",
    "bin/test --where 'a b' -v",
    'bin/test -k "not slow"',
    "python -m pytest --junitxml=$HOME/out.xml",     # no shell: $HOME stays literal
])
def test_test_command_is_split_like_shlex(load_manifest_text, command):
    spec = load_manifest_text(f"[a]\n{GIT}\ntest-command = {command}\n")["a"]
    assert spec.test_command == tuple(shlex.split(command))


def test_empty_watch_means_not_change_triggered(load_manifest_text):
    spec = load_manifest_text(f"[a]\n{GIT}\nwatch =\n")["a"]
    assert spec.watch == ()


def test_empty_post_buildout_steps_disables_the_default(load_manifest_text):
    spec = load_manifest_text(f"[a]\n{GIT}\npost-buildout-steps =\n")["a"]
    assert spec.post_buildout_steps == ()


def test_step_set_options_keep_case_and_dots(load_manifest_text):
    spec = load_manifest_text(f"[a]\n{GIT}\nsphinx-doc.build-dir = doc/_build\n"
                              "static-analysis.paths = src tests\n")["a"]
    assert spec.step_options == {"sphinx-doc": {"build-dir": "doc/_build"},
                                 "static-analysis": {"paths": "src tests"}}


@pytest.mark.parametrize("cron", ["0 3 * * *", "*/15 * * * *", "0 0,12 1-15 * 0"])
def test_nightly(load_manifest_text, cron):
    assert load_manifest_text(f"[a]\n{GIT}\nnightly = {cron}\n")["a"].nightly == parse_cron(cron)


def test_buildout_options_value_may_contain_equals(load_manifest_text):
    spec = load_manifest_text(f"[a]\n{GIT}\nbuildout-options = a:b=c=d\n  x:y=\n")["a"]
    assert [(s, o, v.text) for s, o, v in spec.buildout_options] == [
        ("a", "b", "c=d"), ("x", "y", "")]


# --------------------------------------------------------------------------- #
# issue 17: update-checkouts, bootstrap-packages, buildout-options templates
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize(("options", "expected"), [
    ("", False),
    ("auto-watch = true\n", True),                      # on by default with auto-watch
    ("auto-watch = true\nupdate-checkouts = false\n", False),
    ("update-checkouts = yes\n", True),                 # explicit watch lines, say
])
def test_update_checkouts_defaults_to_auto_watch(load_manifest_text, options, expected):
    assert load_manifest_text(f"[a]\n{GIT}\n{options}")["a"].update_checkouts is expected


def test_bootstrap_packages_are_pip_requirements(load_manifest_text):
    spec = load_manifest_text(f"[a]\n{GIT}\nbootstrap-packages = horse-with-no-namespace\n"
                              "    zope.interface>=5,<7 coverage[toml]==7.4.0\n"
                              "    horse-with-no-namespace\n")["a"]
    assert spec.bootstrap_packages == ("horse-with-no-namespace", "zope.interface>=5,<7",
                                       "coverage[toml]==7.4.0")
    assert load_manifest_text(f"[a]\n{GIT}\n")["a"].bootstrap_packages == ()


def test_bad_bootstrap_packages_are_errors_at_their_line(tmp_path):
    manifest = write(tmp_path, "MANIFEST.cfg", f"""
        [a]
        {GIT}
        bootstrap-packages = good
            --index-url=http://evil.example.com/simple
            https://evil.example.com/x.whl pkg@file:///tmp/x ../local
            pkg;python_version<'3' pkg>= ok==1
        """)
    specs, messages = load_errors(manifest)
    assert specs == {}
    assert [m.split(": ", 3)[0] for m in messages] == [f"{manifest}:{n}" for n in
                                                      (4, 5, 5, 5, 6, 6)]
    assert "a pip option, not a requirement: '--index-url=http://evil" in messages[0]
    assert all("URLs and paths are refused" in m for m in messages[1:4])
    assert "environment markers are refused" in messages[4]
    assert "not a pip requirement: 'pkg>='" in messages[5]
    assert "e.g. horse-with-no-namespace" in messages[5]


def test_bootstrap_packages_named_like_local_archives_are_errors(tmp_path):
    """pip installs an existing file of the working directory (the
    checkout) named like an archive: such names are refused."""
    names = ["evil-1.0.tar.gz", "x.whl", "a.zip", "b.tar", "c.tgz", "d.tar.bz2", "e.tbz",
             "f.tar.xz", "g.txz", "h.tlz", "i.tar.lz", "j.TAR.GZ", "k.whl==1"]
    manifest = write(tmp_path, "MANIFEST.cfg", f"""
        [a]
        {GIT}
        bootstrap-packages = good zip.archive
            {" ".join(names)}
        """)
    specs, messages = load_errors(manifest)
    assert specs == {}
    assert len(messages) == len(names), messages
    for name, message in zip(names, messages, strict=True):
        assert message.startswith(f"{manifest}:4: ") and repr(name) in message
        assert "a local archive name" in message and "NAME[EXTRAS]" in message


def test_buildout_options_are_templates(load_manifest_text):
    spec = load_manifest_text(
        f"[a]\n{GIT}\nbuildout-options = app:dsn=postgresql:///%(prop:testing_db)s\n"
        "    buildout:x=100%%\n")["a"]
    (_s, _o, dsn), (_s2, _o2, literal) = spec.buildout_options
    assert dsn.properties == ("testing_db",)
    assert literal.is_literal and literal.render(lambda _: None, lambda _: None) == "100%"


def test_bad_buildout_option_template_is_an_error_at_its_column(tmp_path):
    manifest = write(tmp_path, "MANIFEST.cfg", f"""
        [a]
        {GIT}
        buildout-options = app:dsn=  %(oops
            app:port=%(cap(port))s
        """)
    _specs, messages = load_errors(manifest)
    assert messages[0].startswith(f"{manifest}:3: buildout [a] buildout-options: "
                                  "malformed %(...)s reference")
    assert messages[0].endswith("\n    app:dsn=  %(oops\n              ^")   # under the %
    assert messages[1].startswith(f"{manifest}:4: buildout [a] buildout-options: "
                                  "%(cap(port))s names no capability here")
