"""What ``force --wait`` prints, from REST answers (tests/e2e/test_cli_rest.py
follows real builds; here every case, including the rare ones: a retried
build, an exception, a worker that is not connected)."""

from __future__ import annotations

from typing import Any

import pytest

from anybox_buildbot.cli import main
from anybox_buildbot.forcewatch import (
    WORKER_PROPERTY,
    Follower,
    build_url,
    check_worker,
    choose_log,
    duration_text,
    failed_step,
    printable,
    step_line,
    tail_lines,
    wait_exit_code,
)
from anybox_buildbot.restclient import RestError
from anybox_buildbot.workerchoice import worker_parameter


def test_printable_keeps_the_terminal_safe() -> None:
    assert printable("\x1b]0;owned\x07ok\tthen") == "?]0;owned?ok\tthen"
    assert printable("10%\r50%\r100%\n") == "100%"            # what a terminal shows
    assert printable("x" * 30, limit=10) == "x" * 10 + "... (20 more)"


@pytest.mark.parametrize(("seconds", "text"), [(0, "<1 s"), (0.4, "<1 s"), (1, "1 s"),
                                               (59, "59 s"), (61, "1 min 01 s"),
                                               (3725, "1 h 02 min")])
def test_durations(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def step(number: int, name: str, results: int | None = 0, started: int | None = 100,
         ended: int | None = 103, **extra: Any) -> dict[str, Any]:
    return {"number": number, "name": name, "results": results, "started_at": started,
            "complete_at": ended, "complete": ended is not None, "hidden": False, **extra}


def test_step_lines() -> None:
    assert step_line(step(3, "test", 2)) == "  step 3 test: failure (3 s)"
    assert step_line(step(4, "docs", 3, None, 100)) == "  step 4 docs: skipped"
    assert step_line(step(5, "evil\x1b[2J", 0, 100, 100)) == "  step 5 evil?[2J: success (<1 s)"


def test_the_first_failing_step_and_its_log() -> None:
    steps = [step(2, "final_dropdb", 2), step(0, "prep"), step(1, "test", 2)]
    assert failed_step(steps)["name"] == "test"
    assert failed_step([step(1, "a", 0), step(2, "b", 3)]) is None
    logs = [{"slug": "stdio", "type": "s"}, {"slug": "err_text", "type": "t"},
            {"slug": "err_html", "type": "h"}]
    assert choose_log(logs, 2)["slug"] == "stdio"
    assert choose_log(logs, 4)["slug"] == "err_text"           # the traceback
    assert choose_log([{"slug": "report", "type": "h"}, {"slug": "summary", "type": "t"}],
                      2)["slug"] == "summary"
    assert choose_log([{"slug": "report", "type": "h"}], 2) is None


def test_tail_of_a_stdio_log_leaves_the_header_out() -> None:
    content = "h argv: ['x']\nh environment:\nofirst\neerr line\nolast\nhprogram finished\n"
    assert tail_lines(content, "s", 2) == ["err line", "last"]
    assert tail_lines(content, "s", 10) == ["first", "err line", "last"]
    # nothing but the header (a command that did not start): the header says why
    assert tail_lines("hcommand not found\nhexit 127\n", "s", 5) == ["command not found",
                                                                     "exit 127"]
    assert tail_lines("Traceback\n  raise X\n", "t", 1) == ["  raise X"]
    assert tail_lines(content, "s", 0) == []


def test_urls_and_exit_codes() -> None:
    assert build_url("http://h:8010", 3, 7) == "http://h:8010/#/builders/3/builds/7"
    assert [wait_exit_code(r) for r in (0, 1, 2, 4, 5, 6, None)] == [0, 0, 12, 14, 15, 16, 12]


def test_the_property_is_the_one_the_force_form_sets() -> None:
    assert worker_parameter(["w"]).name == WORKER_PROPERTY


class Script:
    """A master's REST answers, one state per poll (the last one repeats)."""

    base = "http://m:8010"

    def __init__(self, states: list[dict[str, Any]], logs: dict | None = None) -> None:
        self.states, self.poll, self.logs = states, -1, logs or {}
        self.asked: list[tuple[int, int]] = []

    @property
    def now(self) -> dict[str, Any]:
        return self.states[min(self.poll, len(self.states) - 1)]

    def buildrequest(self, brid: int) -> dict[str, Any]:
        self.poll += 1
        return {"complete": self.now.get("request_complete", False)}

    def builds_for_request(self, brid: int) -> list[dict[str, Any]]:
        return self.now.get("builds", [])

    def steps(self, buildid: int) -> list[dict[str, Any]]:
        return self.now.get("steps", {}).get(buildid, [])

    def workers(self) -> list[dict[str, Any]]:
        return [{"workerid": 1, "name": "w1"}, {"workerid": 2, "name": "w2"}]

    def step_logs(self, buildid: int, number: int) -> list[dict[str, Any]]:
        return [{"logid": 9, "slug": "stdio", "type": "s", "num_lines": 50}]

    def log_lines(self, logid: int, first: int, count: int) -> str:
        self.asked.append((first, count))
        return "".join(f"oline {n}\n" for n in range(first, 48)) + "hexit 1\nhelapsed\n"


def build(buildid: int, number: int, complete: bool = False, results: int | None = None,
          workerid: int = 2) -> dict[str, Any]:
    return {"buildid": buildid, "number": number, "builderid": 4, "workerid": workerid,
            "complete": complete, "results": results,
            "state_string": "failed test" if results == 2 else "building"}


def follow(script: Script, **options: Any) -> tuple[int, list[str]]:
    said: list[str] = []
    code = Follower(script, "app", 12, say=said.append, sleep=lambda s: None,
                    clock=lambda: 0.0, **options).run()
    return code, said


def test_follow_prints_the_page_then_each_step_once_then_the_tail() -> None:
    running = {11: [step(0, "prep"), step(1, "test", None, 101, None)]}
    done = {11: [step(0, "prep"), step(1, "test", 2)]}
    script = Script([{}, {"builds": [build(11, 7)], "steps": running},
                     {"builds": [build(11, 7)], "steps": running},
                     {"builds": [build(11, 7, True, 2)], "steps": done,
                      "request_complete": True}])
    code, said = follow(script, worker="w2", log_lines=3)
    assert code == 12
    assert said == ["waiting for worker w2",
                    "build 7 of app on w2: http://m:8010/#/builders/4/builds/7",
                    "  step 0 prep: success (3 s)",
                    "  step 1 test: failure (3 s)",
                    "build 7 of app: failure (failed test) after <1 s",
                    "last 3 lines of step 1 test (log stdio):",
                    "    line 45", "    line 46", "    line 47"]
    assert script.asked == [(27, 23)]         # the tail only, with room for the header


def test_follow_a_retried_build_to_its_second_build() -> None:
    first = build(11, 7, True, 5, workerid=1)
    script = Script([{"builds": [first], "steps": {11: [step(0, "prep", 5)]}},
                     {"builds": [first, build(12, 8, True, 0)],
                      "steps": {12: [step(0, "prep")]}, "request_complete": True}])
    code, said = follow(script)
    assert code == 0
    assert said == ["build 7 of app on w1: http://m:8010/#/builders/4/builds/7",
                    "  step 0 prep: retry (3 s)",
                    "build 8 of app on w2: http://m:8010/#/builders/4/builds/8",
                    "  step 0 prep: success (3 s)",
                    "build 8 of app: success (building) after <1 s"]


def test_follow_a_request_cancelled_before_any_build() -> None:
    code, said = follow(Script([{}, {"request_complete": True}]))
    assert code == 1 and said[-1] == "the request completed without a build (cancelled?)"


class Fleet:
    base = "http://m:8010"

    def __init__(self, fields: set[str] = frozenset({"workername", "reason"})) -> None:
        self.fields = fields

    def builders(self) -> dict[str, dict[str, Any]]:
        return {"app": {"builderid": 4, "name": "app"}}

    def builder_workers(self, builderid: int) -> list[dict[str, Any]]:
        return [{"name": "w3", "connected_to": []}, {"name": "w1", "connected_to": [{}]}]

    def force_fields(self) -> set[str]:
        return set(self.fields)


def test_worker_check() -> None:
    refused = check_worker(Fleet(), "app", "w2").refusal
    assert refused == "worker 'w2' cannot run builder 'app'; the workers that can: w1, w3"
    assert check_worker(Fleet(), "app", "w1").refusal is None
    offline = check_worker(Fleet(), "app", "w3")
    assert offline.refusal is None
    assert offline.note == "worker 'w3' is not connected: the build waits for it"
    assert check_worker(Fleet(), "unknown", "w1").refusal is None   # the force says it
    with pytest.raises(RestError, match="takes no worker choice"):
        check_worker(Fleet({"reason"}), "app", "w1")


@pytest.mark.parametrize("value", ["-1", "many", "10001"])
def test_log_lines_must_be_a_count(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["force", "app", "--url", "http://127.0.0.1:9/", "--log-lines", value])
    assert exc.value.code == 2
    assert "--log-lines" in capsys.readouterr().err


def test_worker_names_from_the_master_are_printed_safely() -> None:
    """A master's answers are not trusted to be terminal text."""
    class Hostile(Fleet):
        def builder_workers(self, builderid: int) -> list[dict[str, Any]]:
            return [{"name": "w1\x1b]0;pwned\x07\x1b[2J", "connected_to": [{}]}]

    refused = check_worker(Hostile(), "app", "w2").refusal
    assert refused == "worker 'w2' cannot run builder 'app'; the workers that can: w1?]0;pwned??[2J"
