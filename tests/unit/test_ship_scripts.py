"""The ``ship-scripts`` step, as Buildbot runs it (issue 14: one step for
the scripts every build runs): each script's bytes reach the worker in
order, and the first failure, a script missing on the master or an
interruption stops it there."""

from __future__ import annotations

from pathlib import Path

from buildbot.process import remotetransfer
from buildbot.process.results import CANCELLED, FAILURE, SUCCESS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectDownloadFile, ExpectRemoteRef, TestBuildStepMixin
from twisted.trial import unittest

from anybox_buildbot.factory import BUILD_SCRIPTS, SCRIPTS_DIR
from anybox_buildbot.steps.common import ship_scripts


class ShipScriptsTest(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def expect_download(self, script: str, received: dict[str, bytes], rc: int = 0,
                        then=None) -> ExpectDownloadFile:
        def keep(data: bytes) -> None:
            received[script] = data
            if then is not None:
                then()

        return (ExpectDownloadFile(blocksize=16 * 1024, maxsize=None, workdir="wd",
                                   reader=ExpectRemoteRef(remotetransfer.FileReader),
                                   workerdest=f"anybox-{script}")
                .download_string(keep, size=1024 * 1024).exit(rc))

    def test_every_script_reaches_the_worker_in_order(self):
        received: dict[str, bytes] = {}
        self.setup_step(ship_scripts(BUILD_SCRIPTS, "wd"))
        self.expect_commands(*(self.expect_download(s, received) for s in BUILD_SCRIPTS))
        self.expect_outcome(result=SUCCESS, state_string="shipped " + " ".join(
            f"anybox-{s}" for s in BUILD_SCRIPTS))
        d = self.run_step()

        def compare(_):
            assert list(received) == list(BUILD_SCRIPTS)
            for script in BUILD_SCRIPTS:
                assert received[script] == Path(SCRIPTS_DIR, script).read_bytes()
        return d.addCallback(compare)

    def test_a_failed_transfer_stops_the_step(self):
        received: dict[str, bytes] = {}
        self.setup_step(ship_scripts(BUILD_SCRIPTS, "wd"))
        self.expect_commands(self.expect_download(BUILD_SCRIPTS[0], received),
                             self.expect_download(BUILD_SCRIPTS[1], received, rc=1))
        self.expect_outcome(result=FAILURE,
                            state_string=f"could not ship anybox-{BUILD_SCRIPTS[1]} (failure)")
        return self.run_step()

    def test_a_script_missing_on_the_master_fails_the_step(self):
        self.setup_step(ship_scripts(("no-such-script.py",), "wd"))
        self.expect_outcome(result=FAILURE,
                            state_string="could not ship anybox-no-such-script.py (failure)")
        return self.run_step()

    def test_an_interrupt_stops_the_next_transfers(self):
        received: dict[str, bytes] = {}
        self.setup_step(ship_scripts(BUILD_SCRIPTS, "wd"))
        step = self.get_nth_step(0)
        self.expect_commands(self.expect_download(
            BUILD_SCRIPTS[0], received, then=lambda: step.interrupt("stop")))
        self.expect_outcome(result=CANCELLED)
        d = self.run_step()
        return d.addCallback(lambda _: self.assertEqual(list(received), [BUILD_SCRIPTS[0]]))
