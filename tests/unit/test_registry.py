"""Capability option declarations of the registry, and how worker files
are checked against them (``postgresql 15 prot=5432`` is no longer silent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from unit_helpers import write

from anybox_buildbot import BuildoutsConfigurator, ConfigError
from anybox_buildbot.errors import Errors
from anybox_buildbot.registry import (
    BUILTIN_REGISTRY,
    compile_registry,
    default_capabilities,
)
from anybox_buildbot.workers import load_workers


def worker_errors(tmp_path: Path, capability: str, registry=None) -> list[str]:
    path = write(tmp_path, "workers.cfg", f"[w1]\npassword = x\ncapability = {capability}\n")
    errors = Errors()
    load_workers([path], errors, registry=registry)
    return errors.messages


def test_builtin_declarations() -> None:
    assert dict(BUILTIN_REGISTRY["postgresql"].options) == {
        "port": "port", "host": "text", "bin": "text", "lib": "text",
        "source_host": "text", "source_port": "port", "source_user": "text"}
    assert dict(BUILTIN_REGISTRY["python"].options) == {"bin": "text", "executable": "text"}


def test_a_misspelt_option_is_an_error_with_did_you_mean_at_its_column(tmp_path) -> None:
    (message,) = worker_errors(tmp_path, "postgresql 15 prot=5432")
    assert message.split("\n") == [
        f"{tmp_path}/workers.cfg:3: worker [w1]: unknown option 'prot' of capability "
        "'postgresql' at column 15: 'postgresql 15 prot=5432' (did you mean 'port'?)",
        "    postgresql 15 prot=5432",
        "                  ^"]


@pytest.mark.parametrize("port", ["abc", "0", "65536", "5432x", "-1", "٣", "+5", "1" * 40])
def test_a_port_must_be_a_port_number(tmp_path: Path, port: str) -> None:
    (message,) = worker_errors(tmp_path, f"postgresql 15 port={port}")
    assert (f"worker [w1]: option 'port' of capability 'postgresql' is not a port number "
            f"(1 to 65535) at column 20: 'postgresql 15 port={port}' (e.g. port=5432)"
            in message)


@pytest.mark.parametrize("port", ["1", "5432", "65535"])
def test_good_ports(tmp_path: Path, port: str) -> None:
    assert worker_errors(tmp_path, f"postgresql 15 port={port} source_port={port}") == []


def test_every_refused_option_of_a_line_is_reported(tmp_path: Path) -> None:
    messages = worker_errors(tmp_path, "python 3.11 bin=/usr/bin exe=/usr/bin/python3 "
                                       "executble=/x")
    assert len(messages) == 2
    assert "unknown option 'exe'" in messages[0] and "at column 26" in messages[0]
    assert "did you mean 'executable'?" in messages[1] and "at column 47" in messages[1]


def test_a_capability_without_declared_options_takes_any(tmp_path: Path) -> None:
    assert worker_errors(tmp_path, "rabbitmq 3.12 base_uri=amqp://h/ anything=1") == []
    # the built-in ones too, when master.cfg replaces the registry
    assert worker_errors(tmp_path, "postgresql 15 prot=5432", registry={}) == []


def test_admin_declared_options(tmp_path: Path) -> None:
    errors = Errors()
    registry = compile_registry({"rabbitmq": {
        "options": {"base_uri": "text", "port": "port", "workers": "integer"},
        "environ": {"RMQ_BASE_URI": "%(cap(base_uri):-)s"}}}, errors)
    assert errors.messages == []
    messages = worker_errors(tmp_path, "rabbitmq 3.12 base_url=x port=http workers=two",
                             registry)
    assert len(messages) == 3
    assert "unknown option 'base_url' of capability 'rabbitmq'" in messages[0]
    assert "did you mean 'base_uri'?" in messages[0]
    assert "option 'port' of capability 'rabbitmq' is not a port number" in messages[1]
    assert "option 'workers' of capability 'rabbitmq' is not a whole number" in messages[2]


def test_options_may_be_a_list_of_names(tmp_path: Path) -> None:
    errors = Errors()
    registry = compile_registry({"redis": {"options": ["socket"]}}, errors)
    assert registry["redis"].options == (("socket", "text"),)
    assert worker_errors(tmp_path, "redis 7 socket=/run/r.sock", registry) == []
    (message,) = worker_errors(tmp_path, "redis 7 sock=/run/r.sock", registry)
    assert "did you mean 'socket'?" in message


@pytest.mark.parametrize(("options", "problem"), [
    ("port", "options: expected a dict of option name -> kind"),
    ({"port": "number"}, "options: unknown kind for 'port'"),
    ({"-x": "text"}, "options: invalid option name"),
    ({"base_uri": "text"}, "cap(port) is not a declared option"),
])
def test_bad_declarations_are_errors(options, problem: str) -> None:
    errors = Errors()
    compile_registry({"rabbitmq": {"options": options,
                                   "environ": {"P": "%(cap(port):-1)s"}}}, errors)
    assert any(problem in m for m in errors.messages), errors.messages
    assert all(m.startswith("capabilities['rabbitmq']") for m in errors.messages)


def test_a_declared_template_option_must_be_declared() -> None:
    errors = Errors()
    caps = default_capabilities()
    caps["postgresql"]["environ"]["PGUSER"] = "%(cap(user):-)s"
    compile_registry(caps, errors)
    (message,) = errors.messages
    assert message.startswith("capabilities['postgresql'] environ PGUSER: cap(user) is not "
                              "a declared option")


def test_the_configurator_checks_workers_against_its_registry(tmp_path: Path) -> None:
    write(tmp_path, "buildouts/a.cfg", "[buildout]\n")
    write(tmp_path, "buildouts/MANIFEST.cfg", "[a]\nbuildout = standalone a.cfg\n")
    write(tmp_path, "workers.cfg", "[w1]\npassword = x\n"
          "capability = rabbitmq 3.12 base_url=amqp://h/\n")
    conf = BuildoutsConfigurator(str(tmp_path), {})
    conf.add_capability_environ("rabbitmq", {"options": {"base_uri": "text"}})
    with pytest.raises(ConfigError) as info:
        conf.populate()
    (message,) = info.value.errors
    assert message.startswith("workers.cfg:3: worker [w1]: unknown option 'base_url' of "
                              "capability 'rabbitmq' at column 15")
