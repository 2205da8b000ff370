"""Hostile or huge input: a ConfigError or a correct load, quickly, never a
traceback or a hang.

Each load runs in a forked child (the modules are already imported, so it
costs milliseconds): a hang is killed by the watchdog and reported instead
of blocking the suite. The child times the load itself with
``time.perf_counter`` and reports it; the suite asserts no absolute time
(a loaded CI machine would make such a test flaky): the watchdog catches a
hang, and ``bench/hostile_inputs.py`` prints how each hostile load compares
with a benign file of the same size.
"""

from __future__ import annotations

import multiprocessing
import random
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from unit_helpers import GIT

import anybox_buildbot
from anybox_buildbot.errors import MAX_ERRORS_SHOWN, Errors
from anybox_buildbot.inifile import MAX_LINE_LENGTH
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.workers import load_workers

WATCHDOG = 60.0      # seconds before a load is declared hung
MESSAGE_LIMIT = 5000  # characters: a 10 MB line must not make a 10 MB message
MB10 = 10 * 1024 * 1024
LOADERS = {"workers": load_workers, "manifest": load_manifests}


def _child(conn, loader, path, inspect) -> None:
    try:
        errors = Errors()
        start = time.perf_counter()
        specs = loader([path], errors)
        try:
            errors.raise_if_any()
            error = None
        except anybox_buildbot.ConfigError as exc:
            error = exc
        seconds = time.perf_counter() - start
        messages = error.errors if error is not None else []
        conn.send({
            "seconds": seconds,
            "crash": None,
            "count": error.total if error is not None else 0,
            "shown": len(messages),
            "longest": max(map(len, messages), default=0),
            "messages": messages[:5] + messages[-2:] if len(messages) > 7 else messages,
            "specs": len(specs),
            "inspect": inspect(specs) if inspect else None,
        })
    except BaseException:
        conn.send({"crash": traceback.format_exc(limit=8)})
    finally:
        conn.close()


def load(kind: str, path: Path, inspect: Callable | None = None) -> dict:
    """Load ``path`` in a child; fail on a crash or a hang."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, LOADERS[kind], path, inspect))
    proc.start()
    child.close()
    try:
        if not parent.poll(WATCHDOG):
            pytest.fail(f"loading {path.name} did not finish in {WATCHDOG} s (hang)")
        try:
            result = parent.recv()
        except EOFError:
            pytest.fail(f"the child loading {path.name} died (exit code {proc.exitcode})")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
    assert result["crash"] is None, "not a ConfigError:\n" + result["crash"]
    assert result["longest"] < MESSAGE_LIMIT, result["messages"][0][:300]
    # the first MAX_ERRORS_SHOWN messages, then one line counting the others
    assert result["shown"] == min(result["count"], MAX_ERRORS_SHOWN + 1)
    return result


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# ------------------------------------------------------------ binary junk

JUNK = {
    "random-bytes": random.Random(1).randbytes(2_000_000),
    "random-bytes-without-nul": bytes(b or 1 for b in random.Random(2).randbytes(2_000_000)),
    "png-image": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(3).randbytes(50_000),
    "elf-binary": b"\x7fELF\x02\x01\x01" + bytes(9) + random.Random(4).randbytes(50_000),
    "random-unicode-text": "".join(
        chr(c) for c in random.Random(6).choices(range(1, 0xD7FF), k=300_000)).encode(),
    "only-newlines": b"\n" * 1_000_000,
    "only-brackets": b"[" * 1_000_000,
}


@pytest.mark.parametrize("kind", LOADERS)
@pytest.mark.parametrize("name", JUNK)
def test_binary_junk(tmp_path, kind, name):
    result = load(kind, write(tmp_path, f"{name}.cfg", JUNK[name]))
    if name == "only-newlines":  # an empty file: nothing declared, nothing wrong
        assert result["count"] == 0 and result["specs"] == 0
    else:
        assert result["count"] >= 1
        assert all(m.startswith(f"{tmp_path / name}.cfg") for m in result["messages"])


@pytest.mark.parametrize("kind", LOADERS)
def test_nul_byte_is_reported_at_its_line(tmp_path, kind):
    data = b"[w1]\npassword = pw\n" * 50_000 + b"oops\x00\n"
    result = load(kind, write(tmp_path, "nul.cfg", data))
    assert result["count"] == 1
    assert result["messages"][0].startswith(f"{tmp_path}/nul.cfg:100001: binary content")


# ---------------------------------------------------------------- non-UTF-8

@pytest.mark.parametrize("kind", LOADERS)
@pytest.mark.parametrize(("encoded", "byte"), [
    ("latin-1", "0xe9"), ("cp1252", "0xe9"), ("utf-16", None), ("shift_jis", "0x83")])
def test_other_encodings_are_refused_at_the_right_line(tmp_path, kind, encoded, byte):
    text = f"[app]\n{GIT}\n" * 20_000 + "build-category = é\n"
    if encoded == "shift_jis":
        text = text.replace("é", "テスト")
    result = load(kind, write(tmp_path, "enc.cfg", text.encode(encoded)))
    assert result["count"] == 1
    message = result["messages"][0]
    if encoded == "utf-16":  # NUL bytes everywhere
        assert message.startswith(f"{tmp_path}/enc.cfg:1: binary content")
    else:
        assert message.startswith(f"{tmp_path}/enc.cfg:40001: not valid UTF-8 (byte {byte})")


# ----------------------------------------------------------- a 10 MB line

W = "[w1]\npassword = pw\n"
A = f"[app]\n{GIT}\n"

# name -> (kind, text made with n filler characters, line of the error or None
# for a correct load, what the parser of that line says when the line is
# just under the reader's cap)
HUGE_LINES = {
    "worker-comment": ("workers", lambda n: W + "# " + "x" * n, None, None),
    "worker-capability-name": ("workers", lambda n: W + "capability = " + "x" * n, None, None),
    "worker-property-key": ("workers", lambda n: W + "x" * n + " = 1", None, None),
    "worker-property-value": ("workers", lambda n: W + "arch = " + "x" * n, None, None),
    "worker-section-name": ("workers", lambda n: f"[{'x' * n}]\npassword = pw", 1,
                            "invalid worker name"),
    "manifest-section-name": ("manifest", lambda n: f"[{'x' * n}]\n{GIT}", 1,
                              "invalid buildout name"),
    "worker-unclosed-section": ("workers", lambda n: "[" + "x" * n, 1, "expected '[section]'"),
    "worker-spaces-no-equals": ("workers", lambda n: W + "a" + " " * n + "b", 3,
                                "expected '[section]'"),
    "worker-capability-words": ("workers", lambda n: W + "capability = pg 13 " + "x " * (n // 2),
                                3, "expected OPTION=VALUE, got 'x'"),
    "worker-max-builds-digits": ("workers", lambda n: W + "max_builds = " + "9" * n, 3,
                                 "number too large"),
    "worker-only-if-operator": ("workers", lambda n: W + "build-only-if-requires = pg "
                                + "=" * n, 3, "unknown operator"),
    "worker-notify": ("workers", lambda n: W + "notify_on_missing = " + "x" * n, 3,
                      "not an e-mail address"),
    "manifest-unknown-option": ("manifest", lambda n: A + "x" * n + " = 1", 3,
                                "unknown option"),
    "manifest-requirement-name": ("manifest", lambda n: A + "build-requires = " + "x" * n,
                                  None, None),
    "manifest-requirement-version": ("manifest", lambda n: A + "build-requires = pg >= "
                                     + "9." * (n // 2) + "0", 3, "cannot be ordered"),
    "manifest-requirement-clauses": ("manifest", lambda n: A + "build-for = pg "
                                     + ">= 1 " * (n // 5), None, None),
    "manifest-buildout-kind": ("manifest", lambda n: "[app]\nbuildout = " + "x" * n, 2,
                               "unknown buildout kind"),
    "manifest-buildout-url": ("manifest", lambda n: f"[app]\nbuildout = git https://"
                              f"{'x' * n} main b.cfg", 2, "URL longer than 2048 characters"),
    "manifest-inherit": ("manifest", lambda n: A + "[b]\ninherit = " + "x" * n, 4,
                         "inherits from unknown buildout"),
    "manifest-nightly": ("manifest", lambda n: A + "nightly = " + "0-" * (n // 2) + " * * * *",
                         3, "invalid minute field"),
    "manifest-timer-digits": ("manifest", lambda n: A + "tree-stable-timer = " + "9" * n, 3,
                              "number too large"),
    "manifest-test-command": ("manifest", lambda n: A + 'test-command = "' + "x" * n + '"', 3,
                              "command line too long"),
    "manifest-env-literal": ("manifest", lambda n: A + "env.PATH = /opt/bin:" + "x" * n,
                             None, None),
    "manifest-env-references": ("manifest", lambda n: A + "env.X = " + "%(x)s" * (n // 5),
                                None, None),
    "manifest-watch": ("manifest", lambda n: A + "watch = " + "x" * n, 3,
                       "unknown version control system"),
    "manifest-step-sets": ("manifest", lambda n: A + "post-buildout-steps = "
                           + "test " * (n // 5), None, None),
}


# Every line goes through the same check of the reader: a few placements do.
TEN_MB_CASES = ["worker-comment", "worker-section-name", "worker-property-key",
                "worker-spaces-no-equals", "worker-capability-words",
                "manifest-requirement-clauses", "manifest-env-references",
                "manifest-test-command", "manifest-inherit"]


@pytest.mark.parametrize("case", TEN_MB_CASES)
def test_a_10_mb_line(tmp_path, case):
    """Refused by the reader as too long (a comment is just skipped)."""
    kind, make, _, _ = HUGE_LINES[case]
    path = write(tmp_path, f"{case}.cfg", make(MB10) + "\n")
    assert path.stat().st_size > MB10
    result = load(kind, path)
    if case == "worker-comment":
        assert result["count"] == 0 and result["specs"] == 1
        return
    line = next(i for i, text in enumerate(make(MB10).split("\n"), 1) if len(text) > MB10)
    first = result["messages"][0]
    # Others may follow from the dropped line (a section missing its 'buildout').
    assert first.startswith(f"{path}:{line}: line too long ("), first[:300]
    assert f"characters, at most {MAX_LINE_LENGTH})" in first
    # short (load() checks it); the quoted text stops at a key's '=' (a password)
    assert ("... (" in first) == (case in ("worker-section-name", "worker-property-key",
                                           "worker-spaces-no-equals"))


@pytest.mark.parametrize("case", HUGE_LINES)
def test_a_line_just_under_the_cap(tmp_path, case):
    """The longest line the reader lets through: each parser stays fast."""
    kind, make, line, fragment = HUGE_LINES[case]
    text = make(MAX_LINE_LENGTH - 100)
    assert MAX_LINE_LENGTH - 200 < max(map(len, text.split("\n"))) <= MAX_LINE_LENGTH
    path = write(tmp_path, f"{case}.cfg", text + "\n")
    result = load(kind, path)
    if line is None:
        assert result["count"] == 0, result["messages"][0][:300]
        assert result["specs"] == 1
        return
    first = result["messages"][0]
    assert first.startswith(f"{path}:{line}: "), first[:300]
    assert fragment in first
    assert " characters)" in first  # shortened, with its length


def test_a_huge_password_line_is_not_quoted(tmp_path):
    text = "[w1]\npassword = s3cret" + "x" * MB10 + "\n"
    result = load("workers", write(tmp_path, "workers.cfg", text))
    assert result["messages"][0].startswith(f"{tmp_path}/workers.cfg:2: line too long")
    assert "s3cret" not in "".join(result["messages"])


def test_a_huge_line_does_not_hide_the_rest_of_the_file(tmp_path):
    text = ("[w1]\npassword = pw\ncapability = python 3.11\n    " + "x" * MB10
            + "\n    postgresql 13\n[w2]\npassword = pw\nmax_builds = two\n[w3]\npassword = pw\n")
    result = load("workers", write(tmp_path, "workers.cfg", text),
                  lambda specs: [w.name for w in specs])
    assert result["count"] == 2
    assert result["messages"][0].startswith(f"{tmp_path}/workers.cfg:4: line too long")
    assert result["messages"][1].startswith(
        f"{tmp_path}/workers.cfg:8: worker [w2]: expected a whole number: 'two'")
    assert result["inspect"] == ["w1", "w3"]


# ---------------------------------------------- 10 000 sections / workers

N = 10_000


def names_and_sources(specs):
    return [(s.name, s.source.url, tuple(str(r) for r in s.build_for)) for s in specs]


def test_10000_section_manifest(tmp_path):
    text = f"[base]\n{GIT}\nbuild-requires = postgresql >= 9.6\n" + "".join(
        f"\n[app-{i}]\ninherit = base\nbuild-for = python == 3.{i % 13}\n"
        f"watch = git https://example.com/app-{i}.git main\nnightly = {i % 60} 3 * * *\n"
        for i in range(1, N))
    result = load("manifest", write(tmp_path, "MANIFEST.cfg", text), names_and_sources)
    assert result["count"] == 0
    assert result["specs"] == N
    specs = result["inspect"]
    assert specs[0] == ("base", "https://example.com/app.git", ())
    assert specs[-1] == (f"app-{N - 1}", "https://example.com/app.git", ("python == 3.2",))


def test_10000_long_inherit_chain(tmp_path):
    """Each section inherits the next one: resolved without deep recursion."""
    text = "".join(f"[s{i}]\ninherit = s{i + 1}\nbuild-category = c{i}\n"
                   for i in range(N - 1)) + f"[s{N - 1}]\n{GIT}\n"
    result = load("manifest", write(tmp_path, "MANIFEST.cfg", text),
                  lambda specs: sorted((s.name, s.source.url, s.category) for s in specs
                                       if s.name in ("s0", "s1")))
    assert result["count"] == 0
    assert result["specs"] == N
    assert result["inspect"] == [("s0", "https://example.com/app.git", ("c0",)),
                                 ("s1", "https://example.com/app.git", ("c1",))]


def test_10000_long_inherit_cycle(tmp_path):
    text = "".join(f"[s{i}]\ninherit = s{(i + 1) % N}\n" for i in range(N))
    result = load("manifest", write(tmp_path, "MANIFEST.cfg", text))
    assert result["count"] == 1
    assert result["messages"][0].startswith(f"{tmp_path}/MANIFEST.cfg:{2 * N}: ")
    assert "inherit cycle" in result["messages"][0]


def test_10000_sections_inheriting_a_missing_base(tmp_path):
    """The hint (closest of 10 000 names) is computed once, not per section."""
    text = "".join(f"[app-{i}]\ninherit = base\n" for i in range(N))
    result = load("manifest", write(tmp_path, "MANIFEST.cfg", text))
    assert result["count"] == N
    assert result["messages"][0].startswith(
        f"{tmp_path}/MANIFEST.cfg:2: buildout [app-0]: inherits from unknown buildout 'base'")


def test_10000_sections_each_with_mistakes(tmp_path):
    text = "".join(f"[app-{i}]\n{GIT}\nbuild-requires = postgresql => 9.{i}\n"
                   f"tree-stable-timer = {i} s\nbuild-require = python\n" for i in range(N))
    result = load("manifest", write(tmp_path, "MANIFEST.cfg", text))
    assert result["count"] == 3 * N
    assert result["specs"] == 0


def workers_summary(specs):
    return [(w.name, len(w.capabilities), w.max_builds, w.properties) for w in specs[-1:]]


def test_10000_worker_fragment(tmp_path):
    text = "".join(
        f"[ci-{i}]\npassword = pw-{i}\ncapability = postgresql 9.{i % 7} port={5432 + i % 7}\n"
        f"    postgresql 13 port=6000 bin=/usr/lib/postgresql/13/bin\n    python 3.{i % 13}\n"
        f"build-only-if-requires = selenium-server >= 2\nmax_builds = {i % 4}\n"
        f"arch = x86_64\n\n" for i in range(N))
    result = load("workers", write(tmp_path, "workers.cfg", text), workers_summary)
    assert result["count"] == 0
    assert result["specs"] == N
    assert result["inspect"] == [(f"ci-{N - 1}", 3, (N - 1) % 4, {"arch": "x86_64"})]


def test_10000_worker_fragment_with_mistakes(tmp_path):
    text = "".join(f"[ci-{i}]\ncapability = postgresql 9.{i} port\nmax_build = 2\n"
                   for i in range(N)) + "[ci-0]\npassword = again\n"
    result = load("workers", write(tmp_path, "workers.cfg", text))
    assert result["count"] == 3 * N + 1
    assert result["specs"] == 0
    assert result["messages"][0].startswith(
        f"{tmp_path}/workers.cfg:{3 * N + 1}: section [ci-0] already defined at line 1")
