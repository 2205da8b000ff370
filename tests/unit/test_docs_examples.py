"""The documentation cannot drift from the code: its examples are loaded here.

Pages under ``docs/`` show configuration only through ``literalinclude`` of
files under ``examples/`` (or the package's ``templates/workers.cfg.sample``). This module

- loads every such file with the loaders the master uses: manifests with
  ``load_manifests``, worker files with ``load_workers``, ``master*.cfg``
  with Buildbot's own ``FileLoader`` (as ``buildbot checkconfig`` does);
- runs again every command whose output the docs quote
  (``examples/docs/output/*.txt``, first line ``$ anybox-buildbot ...``, run
  from ``examples/docs``) and compares; set ``ANYBOX_REGEN_DOC_OUTPUT=1`` to
  rewrite them after a deliberate change;
- checks the claims the pages make about what a build gets (environment
  of the PostgreSQL and RabbitMQ examples) and the step-set plugin example;
- fails when a page carries a configuration block inline instead of
  including a tested file, and when a README block is not an excerpt of one.
"""

from __future__ import annotations

import argparse
import configparser
import inspect
import io
import json
import os
import re
import shlex
import shutil
import sys
import textwrap
import tomllib
import warnings
from contextlib import redirect_stdout
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from buildbot.config.master import FileLoader
from buildbot.warnings import ConfigWarning

from anybox_buildbot import BuildoutsConfigurator, ConfigError
from anybox_buildbot import subfactories as subfactories_module
from anybox_buildbot.cli import build_parser, main
from anybox_buildbot.errors import Errors
from anybox_buildbot.inifile import read_ini
from anybox_buildbot.manifest import KNOWN_OPTIONS, load_manifests
from anybox_buildbot.registry import compile_registry, default_capabilities
from anybox_buildbot.steps.capabilities import build_environment
from anybox_buildbot.watching import read_report
from anybox_buildbot.workers import load_workers

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
DOC_EXAMPLES = EXAMPLES / "docs"
OUTPUT = DOC_EXAMPLES / "output"
BROKEN = DOC_EXAMPLES / "broken"
PLUGIN = DOC_EXAMPLES / "stepset-plugin"
SAMPLE = ROOT / "anybox_buildbot" / "templates" / "workers.cfg.sample"
REGEN = os.environ.get("ANYBOX_REGEN_DOC_OUTPUT") == "1"

# Languages a page may show inline: commands and their output, never config.
INLINE_LANGUAGES = {"console", "bash", "shell", "sh", "text", "none", "sql"}


# -- what the docs include, and what kind of file each is ----------------------

def doc_pages() -> list[Path]:
    return sorted(DOCS.glob("*.rst"))


def literal_includes() -> dict[Path, list[str]]:
    """Every ``literalinclude`` target -> the pages including it."""
    found: dict[Path, list[str]] = {}
    for page in doc_pages():
        for match in re.finditer(r"^\s*\.\. literalinclude::\s*(\S+)", page.read_text(),
                                 re.MULTILINE):
            target = match[1]
            path = (DOCS / target.lstrip("/")) if target.startswith("/") \
                else (page.parent / target)
            found.setdefault(path.resolve(), []).append(page.name)
    return found


def kind(path: Path) -> str | None:
    """How a documented file is checked (None: unknown, which fails)."""
    name = path.name
    if path.parent == OUTPUT and name.endswith(".txt"):
        return "output"
    if name.startswith("master") and name.endswith(".cfg"):
        return "master"
    if name.startswith("MANIFEST") and name.endswith(".cfg"):
        return "manifest"
    if (name.startswith("workers") and ".cfg" in name) or \
            path.parent.name in ("workers", "fragments"):
        return "workers"
    if path.parent.name == "watch" and name.endswith(".json"):
        return "autowatch"
    if name.endswith(".service"):
        return "systemd"
    if name == "config.json" and path.parent.name == "crossbar":
        return "crossbar"
    if path.parent == PLUGIN and name in ("pyproject.toml", "flake8_stepset.py"):
        return "plugin"
    if name.endswith(".cfg"):
        return "buildout"
    if name.endswith(".py"):
        return "python"
    if name.endswith(".toml"):
        return "toml"
    return None


def doc_example_files() -> list[Path]:
    return sorted(p for p in DOC_EXAMPLES.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


def files_of(wanted: str, broken: bool = False) -> list[Path]:
    """Files of one kind: under examples/docs plus those the docs include."""
    paths = set(doc_example_files()) | set(literal_includes())
    return sorted(p for p in paths if kind(p) == wanted
                  and (BROKEN in p.parents) == broken)


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def test_every_included_file_exists_and_is_tested() -> None:
    includes = literal_includes()
    assert includes, "the docs include no example at all"
    for path, pages in includes.items():
        where = f"{path} (included by {', '.join(pages)})"
        assert path.is_file(), f"missing: {where}"
        assert EXAMPLES in path.parents or path == SAMPLE, \
            f"docs may only include files under examples/ or workers.cfg.sample: {where}"
        assert kind(path) is not None, f"no test loads {where}"


def test_every_doc_example_file_is_tested_and_shown() -> None:
    includes = literal_includes()
    for path in doc_example_files():
        assert kind(path) is not None, f"{path}: unknown kind of example, no test loads it"
        shown = path in includes or path.parent.name == "buildouts" \
            or path.parent.parent == DOC_EXAMPLES and path.name == "master.cfg"
        assert shown, f"{path} is not included by any page of docs/"


# -- loading with the real loaders ---------------------------------------------

def load(loader, paths: list[Path]) -> tuple:
    errors = Errors()
    specs = loader([str(p) for p in paths], errors)
    errors.raise_if_any()
    return specs


@pytest.mark.parametrize("path", files_of("manifest"), ids=ids(files_of("manifest")))
def test_manifest_loads(path: Path) -> None:
    assert load(load_manifests, [path])


@pytest.mark.parametrize("path", files_of("workers"), ids=ids(files_of("workers")))
def test_worker_file_loads(path: Path) -> None:
    assert load(load_workers, [path])


@pytest.mark.parametrize("path", files_of("buildout"), ids=ids(files_of("buildout")))
def test_buildout_file_is_used_by_a_manifest(path: Path) -> None:
    used = {spec.source.path
            for manifest in files_of("manifest") + files_of("manifest", broken=True)
            for spec in load_manifests([str(manifest)], Errors())
            if spec.source.path is not None}
    assert path.resolve() in used, f"{path}: no manifest builds it"
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(path.read_text())
    assert parser.has_section("buildout")


@pytest.mark.parametrize("path", files_of("python"), ids=ids(files_of("python")))
def test_python_example_compiles(path: Path) -> None:
    compile(path.read_text(), str(path), "exec")


@pytest.mark.parametrize("path", files_of("toml"), ids=ids(files_of("toml")))
def test_toml_example_parses(path: Path) -> None:
    assert tomllib.loads(path.read_text())


def load_master(folder: Path, name: str) -> tuple[dict, list[BuildoutsConfigurator]]:
    """FileLoader on a copy of the master's folder (with a secrets dir)."""
    made: list[BuildoutsConfigurator] = []
    BuildoutsConfigurator.capture = made
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConfigWarning)   # e.g. a title too long
            config = FileLoader(str(folder), name).loadConfig()
    finally:
        BuildoutsConfigurator.capture = None
    return config, made


@pytest.mark.parametrize("path", files_of("master"), ids=ids(files_of("master")))
def test_master_cfg_loads_like_checkconfig(path: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ANYBOX_WORKERS", raising=False)
    copy = tmp_path / "master"
    shutil.copytree(path.parent, copy)
    (copy / "secrets").mkdir(mode=0o700, exist_ok=True)
    config, made = load_master(copy, path.name)
    assert made, f"{path} does not use anybox_buildbot"
    assert config.builders and config.workers
    assert "force" in config.schedulers


@pytest.mark.parametrize("path", files_of("autowatch"), ids=ids(files_of("autowatch")))
def test_auto_watch_report_is_read(path: Path) -> None:
    watches, warnings = read_report(path)
    assert watches and warnings == ()


def test_auto_watch_report_and_rewrite_rules_of_master(tmp_path: Path) -> None:
    """watching.rst: the report adds payment.git, polled through the mirror."""
    copy = tmp_path / "master"
    shutil.copytree(DOC_EXAMPLES / "master", copy)
    config, _made = load_master(copy, "master.cfg")
    polled = {source.name.split(":", 1)[1] for source in config.change_sources}
    assert "file:///srv/mirrors/git.example.com/shop/payment.git" in polled
    assert "file:///srv/mirrors/git.example.com/shop/addons.git" in polled
    assert "https://hg.example.com/shop/theme" in polled
    assert not any(url.startswith("https://git.example.com/") for url in polled)


def test_broken_examples_fail_with_every_error() -> None:
    with pytest.raises(ConfigError) as info:
        load(load_workers, [BROKEN / "workers.cfg"])
    assert len(info.value.errors) >= 5
    with pytest.raises(ConfigError) as info:
        load(load_manifests, [BROKEN / "buildouts" / "MANIFEST.cfg"])
    assert len(info.value.errors) >= 5


def test_tutorial_next_step_only_adds_hello_pg_and_a_capability() -> None:
    """tutorial.rst: ci-next is ci plus a [hello-pg] section at the end of the
    manifest and one capability line at the end of workers.cfg (the reader
    appends them; test_tutorial.py writes the manifest as shown)."""
    first, second = DOC_EXAMPLES / "ci", DOC_EXAMPLES / "ci-next"
    for name in ("master.cfg", "buildouts/hello.cfg"):
        assert (first / name).read_text() == (second / name).read_text(), name
    manifest = (second / "buildouts/MANIFEST.cfg").read_text()
    head, _sep, added = manifest.partition("\n[hello-pg]\n")
    assert head == (first / "buildouts/MANIFEST.cfg").read_text() and added
    workers = (second / "workers.cfg").read_text()
    assert workers == (first / "workers.cfg").read_text() + \
        "capability = postgresql 15 port=5433 host=localhost\n"


def test_every_manifest_option_has_an_example_and_a_mention() -> None:
    used: set[str] = set()
    for path in files_of("manifest"):
        ini = read_ini(path, Errors())
        assert ini is not None
        for section in ini.sections:
            used.update(section.options)
        used.update(ini.defaults)
    text = "\n".join(page.read_text() for page in doc_pages())
    for option in sorted(KNOWN_OPTIONS):
        assert option in used, f"no example manifest sets {option!r}"
        assert f"``{option}``" in text, f"docs/ never mention ``{option}``"
    assert any(key.startswith("env.") for key in used), "no env.VAR example"
    assert any("." in key and not key.startswith("env.") for key in used), \
        "no NAME.OPTION example"


def test_configurator_keywords_are_documented() -> None:
    text = "\n".join(page.read_text() for page in doc_pages())
    params = list(inspect.signature(BuildoutsConfigurator).parameters)[2:]
    assert params
    for name in params:
        assert f"``{name}``" in text, f"docs/ never mention BuildoutsConfigurator({name}=)"


def test_every_command_and_option_is_in_cli_page() -> None:
    text = (DOCS / "cli.rst").read_text()
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, sub in commands.choices.items():
        assert f"``{name}" in text or f"\n{name}\n" in text, f"cli.rst: no {name}"
        for action in sub._actions:
            if action.help == argparse.SUPPRESS:
                continue
            for option in action.option_strings:
                assert option in text or option in ("-h", "--help"), f"cli.rst: {name} {option}"


# -- command outputs quoted by the docs ----------------------------------------

def output_files(captured: bool) -> list[Path]:
    return sorted(p for p in OUTPUT.glob("*.txt") if p.name.endswith(".captured.txt") == captured)


def command_of(path: Path) -> list[str]:
    first = path.read_text().splitlines()[0]
    assert first.startswith("$ anybox-buildbot "), f"{path}: first line is the command"
    return shlex.split(first.removeprefix("$ anybox-buildbot "))


@pytest.mark.parametrize("path", output_files(False), ids=ids(output_files(False)))
def test_quoted_output_is_what_the_command_prints(path: Path, monkeypatch) -> None:
    monkeypatch.chdir(DOC_EXAMPLES)
    monkeypatch.delenv("ANYBOX_WORKERS", raising=False)
    argv = command_of(path)
    out = io.StringIO()
    with redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main(argv)
    expected = path.read_text().split("\n", 1)[1]
    if REGEN:
        path.write_text(path.read_text().split("\n", 1)[0] + "\n" + out.getvalue())
        return
    assert out.getvalue() == expected, (
        f"{path.name} is out of date: rerun with ANYBOX_REGEN_DOC_OUTPUT=1 and review")


@pytest.mark.parametrize("path", output_files(True), ids=ids(output_files(True)))
def test_captured_output_command_is_valid(path: Path) -> None:
    """Outputs captured from a running master: at least the command is right."""
    args = build_parser().parse_args(command_of(path))
    assert args.command in ("force", "status")


# -- what the pages say a build gets -------------------------------------------

def worker(path: Path, name: str):
    return {w.name: w for w in load(load_workers, [path])}[name]


def environment(registry: dict, cap, properties: dict | None = None) -> dict:
    specs = compile_registry(registry, Errors())
    return build_environment([(cap, specs[cap.name])], (), (properties or {}).get,
                             {"PATH": "/usr/bin", "LD_LIBRARY_PATH": "/usr/lib"})


def test_postgresql_capability_options_reach_the_environment() -> None:
    """worker-admin.rst: port, host, bin, lib -> PGPORT, PGHOST, PATH, LD_LIBRARY_PATH."""
    caps = {c.version_text: c for c in worker(SAMPLE, "ci-worker-1").instances("postgresql")}
    registry = default_capabilities()
    assert environment(registry, caps["15"]) == {"PGPORT": "5432"}
    assert environment(registry, caps["13"]) == {
        "PGPORT": "5433", "PATH": ["/usr/lib/postgresql/13/bin", "${PATH}"]}
    assert environment(registry, caps["17devel"]) == {
        "PGPORT": "5434", "PGHOST": "/opt/pg17/run",
        "PATH": ["/opt/pg17/bin", "${PATH}"],
        "LD_LIBRARY_PATH": ["/opt/pg17/lib", "${LD_LIBRARY_PATH}"]}


def test_rabbitmq_capability_of_master_cfg(tmp_path: Path) -> None:
    """ci-admin.rst: the RabbitMQ registry entry of master/master.cfg."""
    copy = tmp_path / "master"
    shutil.copytree(DOC_EXAMPLES / "master", copy)
    config, made = load_master(copy, "master.cfg")
    (rabbitmq,) = worker(copy / "workers.cfg", "ci-worker-1").instances("rabbitmq")
    assert environment(made[0].capabilities, rabbitmq) == {
        "RMQ_BASE_URI": "amqp://localhost:5672/", "RMQ_BINARY": "rabbitmqctl",
        "AMQP_CTL_SUDO": "TRUE"}
    builders = {b.name: b for b in config.builders}
    assert builders["queue-rmq3.12"].properties == {"rabbitmq_version": "3.12"}


def test_stepset_plugin_example(tmp_path: Path, monkeypatch) -> None:
    """steps.rst: the plugin package, its entry point and a manifest using it."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())
    points = project["project"]["entry-points"][subfactories_module.ENTRY_POINT_GROUP]
    assert points == {"flake8": "flake8_stepset:flake8"}
    monkeypatch.syspath_prepend(str(PLUGIN))
    sys.modules.pop("flake8_stepset", None)
    installed = [EntryPoint("flake8", points["flake8"], subfactories_module.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(subfactories_module, "entry_points", lambda group: installed)
    config: dict = {}
    conf = BuildoutsConfigurator(PLUGIN, config, manifest_paths=["MANIFEST.cfg"],
                                 workers_path=[str(DOC_EXAMPLES / "ci" / "workers.cfg")])
    conf.populate()
    steps = [s for s in conf.build_factories["app"].steps if s.kwargs.get("name") == "flake8"]
    assert len(steps) == 1
    assert steps[0].kwargs["command"] == ["bin/flake8", "src", "tests"]
    manifest = tmp_path / "MANIFEST.cfg"
    manifest.write_text((PLUGIN / "MANIFEST.cfg").read_text() + "flake8.max-line = 100\n"
                        "flake8.max-line-length = 20\n")
    with pytest.raises(ConfigError) as info:
        BuildoutsConfigurator(tmp_path, {}, manifest_paths=[str(manifest)],
                              workers_path=[str(DOC_EXAMPLES / "ci" / "workers.cfg")]
                              ).populate()
    assert [m.split(": ", 1)[1] for m in info.value.errors] == [
        "buildout [app]: unknown option of step set 'flake8': 'flake8.max-line' (did you mean "
        "'max-line-length'?)",
        "buildout [app] flake8.max-line-length: expected a whole number: '20' (e.g. "
        "flake8.max-line-length = 100)"]


def test_crossbar_config_serves_the_realm_and_url_of_the_scale_out_master() -> None:
    """scale-out.rst: the router's realm, port and WebSocket path are the
    ones the example master.cfg connects to (``crossbar check`` validates
    the file itself in the multi-master end-to-end test's router)."""
    (path,) = files_of("crossbar")
    config = json.loads(path.read_text())
    (router,) = config["workers"]
    assert router["type"] == "router"
    (realm,) = router["realms"]
    (transport,) = router["transports"]
    paths = [name for name, what in transport["paths"].items() if what["type"] == "websocket"]
    master_cfg = (path.parent.parent / "master.cfg").read_text()
    assert f'"realm": "{realm["name"]}"' in master_cfg
    port = transport["endpoint"]["port"]
    assert f'ws://mq.example.com:{port}/{paths[0]}"' in master_cfg


def test_systemd_unit_runs_the_worker_from_its_virtualenv() -> None:
    unit = configparser.ConfigParser(interpolation=None)
    unit.read_string((DOC_EXAMPLES / "buildbot-worker.service").read_text())
    command = unit["Service"]["ExecStart"].split()
    assert command[0].endswith("/bin/buildbot-worker") and command[1:3] == ["start",
                                                                            "--nodaemon"]
    assert unit["Service"]["User"]


# -- no configuration shown inline ---------------------------------------------

_DIRECTIVE = re.compile(r"^(\s*)\.\. (code-block|code|sourcecode)::\s*(\S*)")
_CONFIG_LINE = re.compile(
    r"""^\s*\[[^\]\s]+\]\s*$                         # [section]
      | ^\s*[A-Za-z_][\w.\-\[\]"']*\s+=\s+\S         # key = value, name = expr
      | \bBuildmasterConfig\b | ^\s*(from|import)\s   # master.cfg
    """, re.VERBOSE)


def literal_blocks(text: str) -> list[tuple[int, str | None, str]]:
    """(line, language or None for '::', dedented content) of each block."""
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        directive = _DIRECTIVE.match(line)
        if directive:
            language = directive[3] or "default"
        elif line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            language = None
        else:
            continue
        indent = len(line) - len(line.lstrip())
        body, j = [], i + 1
        while j < len(lines) and (not lines[j].strip() or
                                  len(lines[j]) - len(lines[j].lstrip()) > indent):
            body.append(lines[j])
            j += 1
        content = textwrap.dedent("\n".join(body)).strip("\n")
        if directive:   # skip the directive's own options (:linenos: ...)
            content = "\n".join(x for x in content.splitlines()
                                if not re.match(r"\s*:[\w-]+:", x)).strip("\n")
        blocks.append((i + 1, language, content))
    return blocks


def is_config(content: str) -> bool:
    return any(_CONFIG_LINE.search(line) for line in content.splitlines())


@pytest.mark.parametrize("page", doc_pages(), ids=[p.name for p in doc_pages()])
def test_pages_show_config_only_through_literalinclude(page: Path) -> None:
    for line, language, content in literal_blocks(page.read_text()):
        where = f"{page.name}:{line}"
        if language is not None:
            assert language in INLINE_LANGUAGES, (
                f"{where}: '.. code-block:: {language}' shows configuration inline; "
                "put it in a file under examples/ that tests load and literalinclude it")
        assert not is_config(content), (
            f"{where}: this block looks like configuration; literalinclude a tested "
            f"file instead:\n{content}")


def test_readme_blocks_are_excerpts_of_tested_files() -> None:
    """README.rst cannot use literalinclude (it is read on its own), so each of
    its configuration blocks must be an exact excerpt of a tested file."""
    tested = [p.read_text() for kind_ in ("manifest", "workers", "master", "buildout")
              for p in files_of(kind_)]
    tested += [p.read_text() for p in (EXAMPLES / "buildouts").glob("*.cfg")]
    tested += [(EXAMPLES / name).read_text() for name in ("master.cfg", "workers.cfg")]
    checked = 0
    for line, _language, content in literal_blocks((ROOT / "README.rst").read_text()):
        if not is_config(content):
            continue
        checked += 1
        assert any(content in text for text in tested), (
            f"README.rst:{line}: not an excerpt of a file under examples/:\n{content}")
    assert checked, "README.rst shows no configuration at all"
