"""A master service for benchmarks: step start and finish events on the
master's clock, one JSON line each.

REST timestamps are whole seconds, too coarse for steps that take a
fraction of one; this service listens to the message queue and writes
``{"t", "event", "number", "buildid", "name"}`` per event. A benchmark's
master.cfg imports it with ``CLOCK_IMPORTS`` (the master runs in its own
process, with this folder put on its path).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from buildbot.util import service

#: master.cfg lines making ``StepClock`` importable in the master.
CLOCK_IMPORTS = (f"import sys\nsys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
                 "from stepclock import StepClock\n")


class StepClock(service.BuildbotService):
    name = "bench-step-clock"

    def checkConfig(self, path):
        pass

    async def reconfigService(self, path):
        self.path = path

    async def startService(self):
        await super().startService()
        self._consumers = [await self.master.mq.startConsuming(self._record, ("steps", None, e))
                           for e in ("started", "finished")]

    async def stopService(self):
        for consumer in self._consumers:
            consumer.stopConsuming()
        await super().stopService()

    def _record(self, key, msg):
        with open(self.path, "a") as handle:
            handle.write(json.dumps({"t": time.time(), "event": key[-1], "number": msg["number"],
                                     "buildid": msg["buildid"], "name": msg["name"]}) + "\n")
