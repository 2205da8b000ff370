"""Python values master.cfg gives the public API: wrong ones are one
ConfigError naming each argument, never a traceback from inside the load."""

from __future__ import annotations

from pathlib import Path

import pytest
from buildbot.config.errors import ConfigErrors
from buildbot.config.master import FileLoader

from anybox_buildbot import BuildoutsConfigurator, ConfigError, configure_from_buildouts
from anybox_buildbot.arguments import describe

A = "BuildoutsConfigurator argument "


def refused(**kwargs) -> list[str]:
    with pytest.raises(ConfigError) as info:
        BuildoutsConfigurator("/nonexistent/master", {}, **kwargs)
    return info.value.errors


def interval() -> int:
    return 60


@pytest.mark.parametrize("kwargs, message", [
    (dict(poll_interval=interval), A + "poll_interval: expected a whole number of seconds, "
     "at least 1, -1 (no polling), None (600) or a dict VCS -> one of these, got a function "
     "<function interval"),
    (dict(poll_interval=-5), A + "poll_interval: expected a whole number of seconds, "
     "at least 1, -1 (no polling), None (600) or a dict VCS -> one of these, got int -5"),
    (dict(poll_interval=0), "got int 0"),
    (dict(poll_interval=True), "got bool True"),
    (dict(poll_interval="600"), "got str '600'"),
    (dict(poll_interval=1.5), "got float 1.5"),
    (dict(manifest_paths="buildouts/MANIFEST.cfg"),
     A + "manifest_paths: expected a list of paths (str or os.PathLike), got str "
     "'buildouts/MANIFEST.cfg' (a single manifest goes in a list too: "
     "manifest_paths=['buildouts/MANIFEST.cfg'])"),
    (dict(manifest_paths=Path("M.cfg")), "manifest_paths: expected a list of paths"),
    (dict(manifest_paths=["a.cfg", None]), A + "manifest_paths[1]: expected a path "
     "(str or os.PathLike), not empty, got NoneType None"),
    (dict(manifest_paths=[""]), "manifest_paths[0]: expected a path"),
    (dict(workers_path=5), A + "workers_path: expected a path (str or os.PathLike) or a "
     "list of them, got int 5"),
    (dict(workers_path=["w.cfg", b"x.cfg"]), "workers_path[1]: expected a path"),
    (dict(capabilities=["postgresql"]), A + "capabilities: expected a dict NAME -> "
     "dict(version_prop=, abbrev=, environ=), or None for the built-in registry, got list"),
    (dict(capabilities={"rabbitmq": "rmq"}), A + "capabilities['rabbitmq']: expected a dict "
     "with version_prop, abbrev, environ, got str 'rmq'"),
    (dict(capabilities={"rabbitmq": {"environ": "RMQ=x"}}),
     A + "capabilities['rabbitmq']['environ']: expected a dict VARIABLE -> template"),
    (dict(capabilities={5: {}}), "capabilities: expected capability names (str) as keys, "
     "got int 5"),
    (dict(strict="false"), A + "strict: expected True or False, got str 'false'"),
    (dict(strict=1), "strict: expected True or False, got int 1"),
    (dict(vcs_master_url_rewrite_rules=("ssh://", "https://")),
     A + "vcs_master_url_rewrite_rules: expected a list of (prefix, replacement) pairs of "
     "strings, got tuple ('ssh://', 'https://') (a single rule goes in a list too: "
     "[('ssh://', 'https://')])"),
    (dict(vcs_master_url_rewrite_rules=["ssh://"]),
     "vcs_master_url_rewrite_rules[0]: expected a (prefix, replacement) pair of strings, "
     "got str 'ssh://'"),
    (dict(vcs_master_url_rewrite_rules={"ssh://": "https://"}),
     A + "vcs_master_url_rewrite_rules: expected a list of (prefix, replacement) pairs"),
    (dict(vcs_master_url_rewrite_rules=[("a", "b", "c")]), "rules[0]: expected a (prefix"),
    (dict(vcs_master_url_rewrite_rules=[("ssh://", None)]), "rules[0]: expected a (prefix"),
    (dict(auto_watch_allowed=5), A + "auto_watch_allowed: expected a URL prefix (str), a "
     "list of them, or None, got int 5"),
    (dict(manifest_secrets=5), A + "manifest_secrets: expected a secret name (str), a list "
     "of them, or None, got int 5"),
    (dict(manifest_secrets=[b"token"]), "manifest_secrets: b'token' is not a secret name"),
    (dict(smtp_port="25"), A + "smtp_port: expected a TCP port number (int), got str '25'"),
    (dict(smtp_port=False), "smtp_port: expected a TCP port number (int), got bool"),
    (dict(mail_from=None), A + "mail_from: expected a non-empty str, got NoneType None"),
    (dict(smtp_host=("mail", 25)), A + "smtp_host: expected a non-empty str, got tuple"),
    (dict(smtp_password=12345), A + "smtp_password: expected a str (a password may be "
     "'%(secret:NAME)s') or None, got int 12345"),
])
def test_a_wrong_value_names_its_argument(kwargs: dict, message: str) -> None:
    errors = refused(**kwargs)
    assert len(errors) == 1
    assert message in errors[0]


def test_every_wrong_argument_in_one_error() -> None:
    errors = refused(poll_interval=lambda: 1, strict="yes", manifest_paths="M.cfg",
                     smtp_port=None)
    assert [e.split(":")[0] for e in errors] == [
        A + "manifest_paths", A + "poll_interval", A + "strict", A + "smtp_port"]


def test_positional_arguments_are_checked_too() -> None:
    with pytest.raises(ConfigError) as info:
        BuildoutsConfigurator(None, [])
    assert info.value.errors == [
        A + "buildmaster_dir: expected a path (str or os.PathLike), got NoneType None "
        "(master.cfg has it as 'basedir')",
        A + "buildmaster_config: expected the BuildmasterConfig dict, got list [] "
        "(master.cfg calls it 'c')"]


def test_good_values_of_every_shape_are_accepted(tmp_path: Path) -> None:
    conf = BuildoutsConfigurator(
        tmp_path, {}, manifest_paths=(Path("a/MANIFEST.cfg"), "b.cfg"),
        workers_path=[Path("w1.cfg"), "w2.cfg"], poll_interval=30, capabilities={},
        strict=True, vcs_master_url_rewrite_rules=[["ssh://h/", "/srv/"]],
        auto_watch_allowed=["https://git.example.com/"], smtp_port=587,
        smtp_password="%(secret:smtp)s")
    assert conf.manifest_paths == (Path("a/MANIFEST.cfg"), "b.cfg")
    assert conf.workers_paths == (Path("w1.cfg"), "w2.cfg")
    assert BuildoutsConfigurator(tmp_path, {}, workers_path=Path("w.cfg")).workers_paths == (
        Path("w.cfg"),)


def test_unknown_keyword_of_configure_from_buildouts_suggests_the_right_one() -> None:
    with pytest.raises(ConfigError) as info:
        configure_from_buildouts("/nonexistent", {}, poll_intervall=60, stritc=True)
    assert info.value.errors == [
        "configure_from_buildouts: unknown argument 'poll_intervall' (did you mean "
        "'poll_interval'?)",
        "configure_from_buildouts: unknown argument 'stritc' (did you mean 'strict'?)"]


def test_add_capability_environ_checks_its_arguments(tmp_path: Path) -> None:
    conf = BuildoutsConfigurator(tmp_path, {})
    with pytest.raises(ConfigError) as info:
        conf.add_capability_environ("rabbitmq", "rmq")
    assert info.value.errors == [
        "add_capability_environ argument spec: expected a dict with version_prop, abbrev, "
        "environ, got str 'rmq' (e.g. dict(version_prop='rabbitmq_version', abbrev='rmq'))"]
    with pytest.raises(ConfigError, match=r"spec\['environ'\]: expected a dict"):
        conf.add_capability_environ("rabbitmq", {"environ": [("A", "b")]})
    with pytest.raises(ConfigError, match="argument name: expected a capability name"):
        conf.add_capability_environ(None, {})


def test_master_cfg_with_a_wrong_argument_fails_checkconfig_cleanly(tmp_path: Path) -> None:
    (tmp_path / "master.cfg").write_text(
        "from anybox_buildbot import configure_from_buildouts\n"
        "c = BuildmasterConfig = {}\n"
        "configure_from_buildouts(basedir, c, poll_interval=lambda: 600)\n")
    with pytest.raises(ConfigErrors) as info:
        FileLoader(str(tmp_path), "master.cfg").loadConfig()
    (message,) = info.value.errors
    assert message.startswith(A + "poll_interval: expected a whole number of seconds")


@pytest.mark.parametrize("value, shown", [
    (print, "a function <built-in function print>"),
    ("x" * 200, "str '" + "x" * 79 + "..."),
    (object, "type <class 'object'>"),
])
def test_values_are_described_briefly(value: object, shown: str) -> None:
    assert describe(value) == shown
