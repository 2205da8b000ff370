"""Every kind of bad input is a ConfigError pointing at the file, the line
(the column for requirement lines), the offending text and a hint.

Each case writes real files to ``tmp_path`` and goes through the public
loaders with one ``Errors`` collector, then ``raise_if_any()``, so the
messages are exactly what ``checkconfig`` would show. Files named
``workers*.cfg`` are loaded as worker fragments, ``MANIFEST*.cfg`` as
manifests, in the order given; ``None`` content means "not written".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from buildbot.config.errors import ConfigErrors
from unit_helpers import GIT, write

import anybox_buildbot
from anybox_buildbot.errors import Errors
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.workers import load_workers

W = "workers.cfg"
M = "MANIFEST.cfg"
WORKER = "[w1]\npassword = pw\n"     # two lines: the next one is line 3
APP = f"[app]\n{GIT}\n"              # two lines: the next one is line 3


@dataclass
class Bad:
    id: str
    files: dict[str, str | bytes | None]
    # (file, line or None for "no line", fragments that must all be in the message)
    expect: list[tuple[str, int | None, list[str]]] = field(default_factory=list)


def w(id: str, text: str | bytes, line: int | None, *fragments: str) -> Bad:
    return Bad(id, {W: text}, [(W, line, list(fragments))])


def m(id: str, text: str, line: int | None, *fragments: str) -> Bad:
    return Bad(id, {M: text}, [(M, line, list(fragments))])


def req(id: str, line: str, *fragments: str, option: str = "build-requires") -> Bad:
    """A requirement line in a manifest, on line 3."""
    return m(id, f"{APP}{option} = {line}\n", 3, f"buildout [app] {option}: ", *fragments)


CASES = [
    # ---------------------------------------------------------------- workers.cfg
    w("missing-password", "[w1]\ncapability = python 3.11\n", 1,
      "worker [w1]: missing password: '[w1]'", "add 'password = ...'"),
    w("empty-password", "[w1]\npassword =\nmax_builds = 1\n", 1, "missing password"),
    w("malformed-secret", "[w1]\npassword = %(secret:ci pw)s\n", 2,
      "worker [w1]: malformed secret reference", "write exactly %(secret:NAME)s"),
    w("secret-without-s", "[w1]\npassword = %(secret:pw)\n", 2,
      "malformed secret reference"),
    w("max-builds-two", WORKER + "max_builds = two\n", 3,
      "worker [w1]: expected a whole number: 'two'", "e.g. max_builds = 2"),
    w("max-builds-negative", WORKER + "max_builds = -1\n", 3,
      "must not be negative: '-1'"),
    w("max-builds-empty", WORKER + "max_builds =\n", 3, "expected a whole number: ''"),
    w("keepalive-with-unit", WORKER + "keepalive_interval = 10s\n", 3,
      "expected a whole number: '10s'", "keepalive_interval = "),
    w("missing-timeout-float", WORKER + "missing_timeout = 1.5\n", 3,
      "expected a whole number: '1.5'"),
    w("priority-not-int", WORKER + "worker_priority = high\n", 3,
      "expected a whole number: 'high'"),
    w("max_build-typo", WORKER + "max_build = 2\n", 3,
      "worker [w1]: unknown option 'max_build': 'max_build'", "did you mean 'max_builds'?"),
    w("capabilities-typo", WORKER + "capabilities = python 3.11\n", 3,
      "unknown option 'capabilities'", "did you mean 'capability'?"),
    w("dashed-max-builds", WORKER + "max-builds = 2\n", 3,
      "unknown option 'max-builds'", "did you mean 'max_builds'?"),
    w("underscored-only-if", WORKER + "build_only_if_requires = selenium\n", 3,
      "did you mean 'build-only-if-requires'?"),
    w("notify-typo", WORKER + "notify-on-missing = a@b.c\n", 3,
      "did you mean 'notify_on_missing'?"),
    w("bad-worker-name", "[ci worker]\npassword = pw\n", 1,
      "invalid worker name: 'ci worker'", "use letters, digits"),
    w("worker-name-leading-dash", "[-w1]\npassword = pw\n", 1, "invalid worker name: '-w1'"),
    w("capability-option-without-value", WORKER + "capability = postgresql 9.1 port\n", 3,
      "worker [w1]: expected OPTION=VALUE, got 'port' at column 16: 'postgresql 9.1 port'",
      "key=value without spaces"),
    w("capability-empty-value", WORKER + "capability = python 3.11\n    postgresql 13 port=\n",
      4, "option 'port' has an empty value at column 15: 'postgresql 13 port='",
      "write port=VALUE or drop the option"),
    w("capability-bad-name", WORKER + "capability = pg/sql 13\n", 3,
      "invalid capability name 'pg/sql' at column 1"),
    w("capability-bad-option-name", WORKER + "capability = postgresql 13 1port=5\n", 3,
      "invalid option name '1port' at column 15"),
    w("capability-option-twice", WORKER + "capability = postgresql 13 port=1 port=2\n", 3,
      "option 'port' given twice at column 22"),
    w("duplicate-capability", WORKER + "capability = postgresql 13 port=5434\n"
      "    postgresql 13.0 port=5435\n", 4,
      "capability postgresql 13.0 declared twice (first at line 3): "
      "'postgresql 13.0 port=5435'", "give each instance its own version"),
    w("duplicate-unversioned-capability", WORKER + "capability = private-git-access\n"
      "    python 3.11\n    private-git-access\n", 5,
      "capability private-git-access (no version) declared twice (first at line 3)"),
    w("duplicate-option", WORKER + "max_builds = 1\nmax_builds = 2\n", 4,
      "option 'max_builds' given twice (first at line 3): 'max_builds'", "keep one"),
    w("duplicate-section", "[w1]\npassword = a\n[w2]\npassword = b\n[w1]\npassword = c\n", 5,
      "section [w1] already defined at line 1: '[w1]'", "merge the two sections"),
    w("bad-notify", WORKER + "notify_on_missing = ops@example.com ops-at-example.com\n", 3,
      "worker [w1]: not an e-mail address: 'ops-at-example.com'",
      "notify_on_missing = ops@example.com"),
    w("bad-only-if", WORKER + "build-only-if-requires = selenium-server >=\n", 3,
      "worker [w1] build-only-if-requires: expected a version after '>=' at column 17"),
    w("option-outside-section", "password = pw\n[w1]\npassword = pw\n", 1,
      "option outside any section: 'password'", "start the file with a [section] line"),
    w("indented-without-option", "[w1]\n  postgresql 13\npassword = pw\n", 2,
      "indented line outside any option: 'postgresql 13'",
      "continuation lines follow an 'option = value' line"),
    w("not-ini", WORKER + "capability python 3.11\n", 3,
      "expected '[section]', 'option = value' or an indented continuation line: "
      "'capability python 3.11'"),
    w("empty-section-name", "[]\npassword = pw\n", 1, "empty section name: '[]'"),
    w("unindented-capability-line", WORKER + "capability = postgresql 9.6 port=5433\n"
      "postgresql 13 port=5434\n", 4, "invalid option name: 'postgresql 13 port'",
      "indent continuation lines"),
    w("non-utf8", b"[w1]\npassword = caf\xe9\n", 2, "not valid UTF-8 (byte 0xe9)",
      "save the file as UTF-8"),
    w("nul-bytes", b"[w1]\npassword = pw\n\x00\x00", 3, "binary content (NUL byte)",
      "give a UTF-8 text file"),
    Bad("missing-workers-file", {W: None}, [(W, None, ["cannot read {tmp}/workers.cfg"])]),
    Bad("duplicate-worker-across-fragments",
        {"workers0.cfg": "[w0]\npassword = a\n[w1]\npassword = b\n",
         "workers1.cfg": "[w1]\npassword = c\n"},
        [("workers1.cfg", 1, ["worker 'w1' is already defined in {tmp}/workers0.cfg:3: '[w1]'",
                              "unique over all fragments"])]),
    # ------------------------------------------------------------- requirement lines
    req("version-missing-after-op", "postgresql >=",
        "expected a version after '>=' at column 12: 'postgresql >='", "postgresql >= 9.6"),
    req("trailing-or", "postgresql == 9.1 OR",
        "expected a clause after 'OR' at column 21: 'postgresql == 9.1 OR'",
        "remove the trailing OR"),
    req("leading-or", "postgresql OR == 9", "expected a clause before 'OR' at column 12"),
    req("op-=>", "postgresql => 9.6", "unknown operator '=>' at column 12",
        "valid operators: == != <= >= < >"),
    req("op-=<", "postgresql =< 9.6", "unknown operator '=<' at column 12", "valid operators"),
    req("op->>", "postgresql >> 9.6", "unknown operator '>>' at column 12", "valid operators"),
    req("op-~=", "postgresql ~= 9.6", "unknown operator '~=' at column 12", "valid operators"),
    req("op-single-=", "postgresql = 9.6", "unknown operator '=' at column 12"),
    req("unsatisfiable", "postgresql > 13 < 9",
        "no version can satisfy 'postgresql > 13 < 9': 'postgresql > 13 < 9'",
        "the lower one must be below the upper one"),
    req("unsatisfiable-exact", "postgresql == 9.6 != 9.6.0", "no version can satisfy"),
    req("ordering-with-trusty", "ubuntu >= trusty",
        "version 'trusty' cannot be ordered, so '>=' cannot apply at column 11",
        "use '==' or '!='"),
    req("version-without-operator", "postgresql 9.6",
        "expected an operator before '9.6' at column 12", "did you mean '== 9.6'?"),
    req("two-names-on-one-line", "postgresql python",
        "expected an operator before 'python' at column 12", "one capability name per line"),
    req("wildcard-with-ordering", "postgresql >= 9.*",
        "wildcard versions only go with '==' or '!=', not '>=' at column 15"),
    req("glued-clauses", "postgresql ==9.6<14", "invalid version '9.6<14' at column 14"),
    req("bad-requirement-name", "-postgresql", "invalid capability name '-postgresql' at "
        "column 1"),
    req("build-for-ordering-with-odd-version", "postgresql < bionic",
        "cannot be ordered", option="build-for"),
    m("build-for-continuation-line", APP + "build-for = python >= 3.9\n"
      "    postgresql == 9.1 OR\n", 4,
      "buildout [app] build-for: expected a clause after 'OR' at column 21"),
    # ------------------------------------------------------------------ MANIFEST.cfg
    Bad("duplicate-buildout-across-manifests",
        {"MANIFEST0.cfg": APP, "MANIFEST1.cfg": f"[other]\n{GIT}\n[app]\n{GIT}\n"},
        [("MANIFEST1.cfg", 3, ["buildout 'app' is already defined in {tmp}/MANIFEST0.cfg:1: "
                               "'[app]'", "unique over all manifests"])]),
    m("inherit-cycle", f"[a]\ninherit = b\n{GIT}\n[b]\ninherit = a\n", 5,
      "buildout [b]: inherit cycle: 'a -> b -> a'", "remove one 'inherit'"),
    m("inherit-self", "[a]\ninherit = a\n", 2, "inherit cycle: 'a -> a'"),
    m("inherit-unknown", f"[base]\n{GIT}\n[child]\ninherit = bsae\n", 4,
      "buildout [child]: inherits from unknown buildout 'bsae': 'bsae'",
      "did you mean 'base'?"),
    m("unknown-option", APP + "build-require = postgresql\n", 3,
      "buildout [app] build-require: unknown option: 'build-require'",
      "did you mean 'build-requires'?"),
    m("unknown-option-timer", APP + "tree-stable-time = 5\n", 3,
      "did you mean 'tree-stable-timer'?"),
    m("missing-buildout", "[app]\ntree-stable-timer = 5\n", 1,
      "buildout [app]: missing 'buildout' option",
      "buildout = git URL BRANCH buildout.cfg"),
    m("empty-buildout", "[app]\nbuildout =\n", 2, "buildout [app] buildout: empty value: '' "
      "(forms: standalone PATH; git URL BRANCH CFG"),
    m("unknown-buildout-kind", "[app]\nbuildout = svn https://h/r trunk b.cfg\n", 2,
      "buildout [app] buildout: unknown buildout kind 'svn'", "forms: standalone PATH; git "
      "URL BRANCH CFG"),
    m("buildout-kind-typo", "[app]\nbuildout = gti https://h/r.git main b.cfg\n", 2,
      "unknown buildout kind 'gti'", "did you mean 'git'?"),
    m("git-missing-cfg", "[app]\nbuildout = git https://h/r.git main\n", 2,
      "buildout [app] buildout: missing CFG: 'git https://h/r.git main'",
      "expected: buildout = git URL BRANCH CFG [subdir=DIR]"),
    m("git-missing-branch-and-cfg", "[app]\nbuildout = git https://h/r.git\n", 2,
      "missing BRANCH, CFG"),
    m("extra-words", "[app]\nbuildout = standalone a.cfg b.cfg\n", 2,
      "unexpected extra words 'b.cfg'", "expected: buildout = standalone PATH"),
    m("unknown-keyword", "[app]\nbuildout = git https://h/r.git main b.cfg depth=1\n", 2,
      "unexpected extra words 'depth=1'"),
    m("subdir-on-hg", "[app]\nbuildout = hg https://h/r default b.cfg subdir=x\n", 2,
      "unexpected extra words 'subdir=x'"),
    m("standalone-not-found", "[app]\nbuildout = standalone nope.cfg\n", 2,
      "buildout [app] buildout: standalone buildout file not found: 'nope.cfg'",
      "relative to the manifest's folder, here {tmp}"),
    m("watch-unknown-vcs", APP + "watch = svn https://h/r trunk\n", 3,
      "buildout [app] watch: unknown version control system 'svn': 'svn https://h/r trunk'",
      "forms: git URL BRANCH; hg URL BRANCH; bzr URL"),
    m("watch-missing-branch", APP + "watch = git https://h/a.git main\n  git https://h/b.git\n",
      4, "expected 2 word(s) after 'git', got 1: 'git https://h/b.git'",
      "form: git URL BRANCH"),
    m("watch-bzr-with-branch", APP + "watch = bzr lp:x trunk\n", 3,
      "expected 1 word(s) after 'bzr', got 2"),
    m("timer-with-unit", APP + "tree-stable-timer = 10 minutes\n", 3,
      "buildout [app] tree-stable-timer: expected a whole number of seconds: '10 minutes'",
      "e.g. tree-stable-timer = 600"),
    m("timer-negative", APP + "tree-stable-timer = -1\n", 3,
      "buildout [app] tree-stable-timer: must not be negative: '-1'"),
    m("timer-two-lines", APP + "tree-stable-timer = 10\n  20\n", 4,
      "expected a single line: '20'", "this option takes one value"),
    m("nightly-words", APP + "nightly = every night\n", 3,
      "buildout [app] nightly: expected a cron line of 5 fields, got 2: 'every night'",
      "e.g. '0 3 * * *'"),
    m("nightly-four-fields", APP + "nightly = 0 3 * *\n", 3, "expected a cron line of 5 fields"),
    m("buildout-options-no-section", APP + "buildout-options = newest=false\n", 3,
      "buildout [app] buildout-options: expected section:option=value: 'newest=false'",
      "e.g. buildout:newest=false"),
    m("buildout-options-continuation", APP + "buildout-options = buildout:newest=false\n"
      "    versions:zc.buildout\n", 4, "expected section:option=value: 'versions:zc.buildout'"),
    m("test-command-unbalanced-quotes", APP + 'test-command = bin/test -k "not slow\n', 3,
      "buildout [app] test-command: cannot split into arguments: No closing quotation: "
      "'bin/test -k \"not slow'", "balance the quotes"),
    m("env-bad-template", APP + "env.PGPORT = %(cap(port)\n", 3,
      "buildout [app] env.PGPORT: malformed %(...)s reference at column 1: '%(cap(port)'",
      "%(cap(port):-5432)s"),
    m("env-template-on-continuation", APP + "env.X = a\n  b %(oops\n", 4,
      "buildout [app] env.X: malformed %(...)s reference at column 3: 'b %(oops'"),
    m("env-bad-var-name", APP + "env.1BAD = x\n", 3,
      "buildout [app] env.1BAD: invalid environment variable name: '1BAD'"),
    m("env-dashed-var-name", APP + "env.MY-VAR = x\n", 3,
      "invalid environment variable name: 'MY-VAR'"),
    m("auto-watch-maybe", APP + "auto-watch = maybe\n", 3,
      "buildout [app] auto-watch: expected true or false: 'maybe'"),
    m("git-shallow-sure", APP + "git-shallow = sure\n", 3,
      "buildout [app] git-shallow: expected true or false: 'sure'"),
    m("buildout-version-latest", APP + "buildout-version = latest\n", 3,
      "buildout [app] buildout-version: invalid zc.buildout version: 'latest'",
      "e.g. buildout-version = "),
    m("bad-step-set-name", APP + "post-buildout-steps = test py.test\n", 3,
      "buildout [app] post-buildout-steps: invalid step set name: 'py.test'"),
    m("bad-step-set-name-on-continuation", APP + "db-steps = simple_create\n"
      "    final_dropdb, drop/all\n", 4, "buildout [app] db-steps: invalid step set name: "
      "'drop/all'"),
    m("huge-line-is-shortened", APP + "nightly = " + "9" * 100_000 + "\n", 3,
      "expected a cron line of 5 fields, got 1: '" + "9" * 200 + "... (100000 characters)'"),
    m("manifest-duplicate-option", APP + "watch =\nwatch =\n", 4,
      "option 'watch' given twice (first at line 3)"),
    # ------------------------------------------------- paths and names stay in place
    m("standalone-parent-dir", "[app]\nbuildout = standalone ../secrets/token\n", 2,
      "buildout [app] buildout: standalone buildout file outside the manifest's folder: "
      "'../secrets/token'", "must resolve inside {tmp} (symlinks are followed)",
      "copy the file there"),
    m("standalone-absolute-outside", "[app]\nbuildout = standalone /etc/passwd\n", 2,
      "standalone buildout file outside the manifest's folder: '/etc/passwd'"),
    m("cfg-parent-dir", "[app]\nbuildout = git https://h/r.git main ../b.cfg\n", 2,
      "buildout [app] buildout: configuration file path goes up with '..': '../b.cfg'",
      "relative to the checkout", "e.g. buildout.cfg or conf/prod.cfg"),
    m("cfg-absolute", "[app]\nbuildout = hg https://h/r default /etc/b.cfg\n", 2,
      "configuration file path is absolute: '/etc/b.cfg'"),
    m("cfg-dash-part", "[app]\nbuildout = bzr lp:x conf/-c.cfg\n", 2,
      "configuration file path has a part starting with '-': 'conf/-c.cfg'"),
    m("cfg-backslash", "[app]\nbuildout = archive https://h/a.tgz a\\..\\b.cfg\n", 2,
      "configuration file path contains a backslash: 'a\\\\..\\\\b.cfg'"),
    m("cfg-control-character", "[app]\nbuildout = gittag https://h/r.git b\x1b.cfg\n", 2,
      "configuration file path contains a control character: 'b\\x1b.cfg'"),
    m("cfg-not-a-file", "[app]\nbuildout = git https://h/r.git main conf/\n", 2,
      "configuration file path does not name a file: 'conf/'"),
    m("subdir-parent-dir", "[app]\nbuildout = git https://h/r.git main b.cfg subdir=../..\n",
      2, "buildout [app] buildout: subdir goes up with '..': '../..'", "e.g. subdir=odoo"),
    m("subdir-absolute", "[app]\nbuildout = gittag https://h/r.git b.cfg subdir=/tmp\n", 2,
      "subdir is absolute: '/tmp'"),
    m("subdir-dash", "[app]\nbuildout = git https://h/r.git main b.cfg subdir=-x\n", 2,
      "subdir has a part starting with '-': '-x'"),
    m("subdir-empty", "[app]\nbuildout = git https://h/r.git main b.cfg subdir=\n", 2,
      "subdir is empty: ''"),
    m("section-name-path", f"[../../tmp/x]\n{GIT}\n", 1,
      "invalid buildout name: '[../../tmp/x]'", "must start with a letter or digit",
      "section names become builder names and file names"),
    m("section-name-slash", f"[odoo/16.0]\n{GIT}\n", 1,
      "invalid buildout name: '[odoo/16.0]'", "character '/' is not allowed"),
    m("section-name-space", f"[my app]\n{GIT}\n", 1,
      "invalid buildout name: '[my app]'", "character ' ' is not allowed"),
    m("section-name-too-long", f"[{'a' * 101}]\n{GIT}\n", 1,
      "invalid buildout name", "too long (101 characters, at most 100)"),
    w("capability-version-path", WORKER + "capability = postgresql 9.6/../../x port=1\n", 3,
      "worker [w1]: invalid version '9.6/../../x' at column 12",
      "character '/' is not allowed", "versions become part of builder names"),
    w("capability-version-dots", WORKER + "capability = postgresql ..\n", 3,
      "invalid version '..' at column 12", "must start with a letter or digit"),
    w("capability-version-too-long", WORKER + f"capability = pg {'1' * 65}\n", 3,
      "invalid version", "too long (65 characters, at most 64)"),
    w("worker-name-with-dots", "[ci.example.com]\npassword = pw\n", 1,
      "invalid worker name: 'ci.example.com'", "character '.' is not allowed",
      "Buildbot's rule"),
    w("worker-name-leading-digit", "[9w]\npassword = pw\n", 1,
      "invalid worker name: '9w'", "must start with a letter or '_'"),
    w("worker-name-reserved", "[debug]\npassword = pw\n", 1,
      "invalid worker name: 'debug'", "reserved by Buildbot"),
    w("worker-name-too-long", f"[{'w' * 51}]\npassword = pw\n", 1,
      "invalid worker name", "too long (51 characters, at most 50)"),
]


def load_files(tmp_path: Path, files: dict[str, str | bytes | None]) -> None:
    """Load like the configurator: one collector for every file, then raise."""
    paths = {}
    for name, text in files.items():
        paths[name] = write(tmp_path, name, text) if text is not None else tmp_path / name
    errors = Errors()
    load_workers([p for n, p in paths.items() if n.startswith("workers")], errors)
    load_manifests([p for n, p in paths.items() if n.startswith("MANIFEST")], errors)
    errors.raise_if_any()


def assert_reported(messages: list[str], tmp_path: Path,
                    expect: list[tuple[str, int | None, list[str]]]) -> None:
    assert len(messages) == len(expect), "\n".join(messages)
    for file, line, fragments in expect:
        prefix = f"{tmp_path / file}:{line}: " if line is not None else f"{tmp_path / file}: "
        wanted = [f.format(tmp=tmp_path) for f in fragments]
        found = [msg for msg in messages
                 if msg.startswith(prefix) and all(f in msg for f in wanted)]
        assert found, f"no message starts with {prefix!r} and contains {wanted!r}:\n" + \
            "\n".join(messages)


def test_there_are_many_distinct_cases():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 40


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(tmp_path, case):
    with pytest.raises(anybox_buildbot.ConfigError) as info:
        load_files(tmp_path, case.files)
    assert_reported(info.value.errors, tmp_path, case.expect)


def test_config_error_is_buildbot_config_errors(tmp_path):
    with pytest.raises(ConfigErrors) as info:
        load_files(tmp_path, {W: "[w1]\n"})
    exc = info.value
    assert isinstance(exc, anybox_buildbot.ConfigError)
    assert isinstance(exc.errors, list)
    assert all(isinstance(message, str) for message in exc.errors)
    assert str(exc) == "\n".join(exc.errors)


def test_good_files_raise_nothing(tmp_path):
    load_files(tmp_path, {W: WORKER, M: APP})


def test_every_error_of_every_file_is_reported_at_once(tmp_path):
    """Collected, not first-only: two worker fragments and two manifests, each
    with several mistakes, give one ConfigError listing them all."""
    files = {
        "workers0.cfg": "[w1]\nmax_builds = two\n[w2]\npassword = pw\n"
                        "capability = postgresql 9.1 port\n",
        "workers1.cfg": "[w3]\npassword = pw\nnotify_on_missing = nobody\n"
                        "[w2]\npassword = pw\n",
        "MANIFEST0.cfg": f"[a]\n{GIT}\nbuild-requires = postgresql =>9\nauto-watch = maybe\n",
        "MANIFEST1.cfg": "[b]\nbuildout = standalone missing.cfg\nnightly = soon\n"
                         "[c]\ninherit = nowhere\n",
    }
    with pytest.raises(anybox_buildbot.ConfigError) as info:
        load_files(tmp_path, files)
    assert_reported(info.value.errors, tmp_path, [
        ("workers0.cfg", 1, ["missing password"]),
        ("workers0.cfg", 2, ["expected a whole number: 'two'"]),
        ("workers0.cfg", 5, ["expected OPTION=VALUE, got 'port'"]),
        ("workers1.cfg", 3, ["not an e-mail address: 'nobody'"]),
        ("workers1.cfg", 4, ["worker 'w2' is already defined in {tmp}/workers0.cfg:3"]),
        ("MANIFEST0.cfg", 3, ["unknown operator '=>' at column 12"]),
        ("MANIFEST0.cfg", 4, ["expected true or false: 'maybe'"]),
        ("MANIFEST1.cfg", 2, ["standalone buildout file not found"]),
        ("MANIFEST1.cfg", 3, ["expected a cron line of 5 fields, got 1: 'soon'"]),
        ("MANIFEST1.cfg", 5, ["inherits from unknown buildout 'nowhere'"]),
    ])


def test_unreadable_files_do_not_hide_errors_of_the_others(tmp_path):
    with pytest.raises(anybox_buildbot.ConfigError) as info:
        load_files(tmp_path, {"workers0.cfg": b"\x00", "workers1.cfg": "[w1]\n",
                              "MANIFEST0.cfg": b"[a]\n\xff\n", "MANIFEST1.cfg": "[b]\n"})
    assert_reported(info.value.errors, tmp_path, [
        ("workers0.cfg", 1, ["binary content"]),
        ("workers1.cfg", 1, ["missing password"]),
        ("MANIFEST0.cfg", 2, ["not valid UTF-8"]),
        ("MANIFEST1.cfg", 1, ["missing 'buildout' option"]),
    ])


@pytest.mark.parametrize("text", [
    "[w1]\npassword = s3cret-one\npassword = s3cret-two\n",
    "password = s3cret-top\n[w1]\npassword = pw\n",
    "[w1]\npassword = %(secret:s3cret-x\n",
    "[w1]\npassword = s3cret-ok\nmax_builds = two\npasswd = s3cret-alias\n",
])
def test_errors_never_show_the_password(tmp_path, text):
    with pytest.raises(anybox_buildbot.ConfigError) as info:
        load_files(tmp_path, {W: text})
    assert info.value.errors
    assert "s3cret" not in str(info.value)


def test_a_bad_worker_does_not_stop_the_good_ones(tmp_path):
    path = write(tmp_path, W, "[bad]\n[good]\npassword = pw\n")
    errors = Errors()
    workers = load_workers([path], errors)
    assert [w.name for w in workers] == ["good"]
    assert len(errors.messages) == 1


def test_a_bad_buildout_does_not_stop_the_good_ones(tmp_path):
    path = write(tmp_path, M, f"[bad]\n{GIT}\nnightly = x\n[good]\n{GIT}\n")
    errors = Errors()
    specs = load_manifests([path], errors)
    assert [s.name for s in specs] == ["good"]
    assert len(errors.messages) == 1


def test_env_var_cannot_use_cap_references(tmp_path):
    from anybox_buildbot.errors import Errors
    from anybox_buildbot.manifest import load_manifests
    (tmp_path / "a.cfg").write_text("[buildout]\n")
    path = tmp_path / "MANIFEST.cfg"
    path.write_text("[app]\nbuildout = standalone a.cfg\nenv.DB_PORT = %(cap(port):-5432)s\n")
    errors = Errors()
    load_manifests([path], errors)
    assert errors.messages == [
        f"{path}:3: buildout [app] env.DB_PORT: %(cap(port))s names no capability here: "
        "'%(cap(port):-5432)s' (use the property of the chosen instance, e.g. "
        "%(cap_postgresql_port)s)"]


@pytest.mark.parametrize("value", ["+5", "1_000", "\u0663", "2.0", "-1"])
def test_worker_integers_are_plain_ascii_digits(tmp_path, value):
    from anybox_buildbot.errors import Errors
    from anybox_buildbot.workers import load_workers
    path = tmp_path / "workers.cfg"
    path.write_text(f"[w]\npassword = x\nmax_builds = {value}\n", encoding="utf-8")
    errors = Errors()
    assert load_workers([path], errors) == ()
    (message,) = errors.messages
    assert message.startswith(f"{path}:3: worker [w]: ")
    assert ("must not be negative" if value == "-1" else "expected a whole number") in message


def test_inherit_in_default_is_refused(tmp_path):
    from anybox_buildbot.errors import Errors
    from anybox_buildbot.manifest import load_manifests
    (tmp_path / "a.cfg").write_text("[buildout]\n")
    path = tmp_path / "MANIFEST.cfg"
    path.write_text("[DEFAULT]\ninherit = base\n[base]\nbuildout = standalone a.cfg\n")
    errors = Errors()
    load_manifests([path], errors)
    assert errors.messages[0].startswith(
        f"{path}:2: [DEFAULT]: inherit cannot be set in [DEFAULT]: 'base'")


def test_missing_standalone_file_is_named_as_written(tmp_path):
    from anybox_buildbot.errors import Errors
    from anybox_buildbot.manifest import load_manifests
    path = tmp_path / "MANIFEST.cfg"
    path.write_text("[app]\nbuildout = standalone cfgs/missing.cfg\n")
    errors = Errors()
    load_manifests([path], errors)
    (message,) = errors.messages
    assert "standalone buildout file not found: 'cfgs/missing.cfg'" in message
    assert str(tmp_path) in message   # the hint says which folder it was looked up in
