"""Loading a master directory the way Buildbot does, for the CLI.

``master.cfg`` is run by Buildbot's own loader (so custom manifest paths,
registries and rewrite rules are honoured) while the configurators it
makes are captured; ``Loaded`` is what the commands then inspect: its
errors, its warnings, or the plan of each configurator.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, field

from .configurator import BuildoutsConfigurator
from .gcpause import collector_paused
from .planview import plan_data


@dataclass
class Loaded:
    """What loading a master directory gave: errors or configurators."""

    errors: list[str] = field(default_factory=list)
    configurators: list[BuildoutsConfigurator] = field(default_factory=list)

    @property
    def plan_ready(self) -> bool:
        return not self.errors and any(c.plan is not None for c in self.configurators)

    @property
    def warnings(self) -> list[str]:
        """Every warning of the load (each configurator's channel), with
        its location; a closing "... and N more" line per configurator."""
        return [line for conf in self.configurators for line in conf.warnings.report()]

    def counts(self) -> tuple[int, int, int]:
        """(builders, buildouts, workers) as ``data()`` would list them,
        without making its tables (a builder-worker table of 10 million
        entries at 10 000 buildouts x 2 000 workers)."""
        builders = buildouts = workers = 0
        for conf in self.configurators:
            if conf.plan is not None:
                builders += len(conf.plan.builders)
                buildouts += len(conf.buildouts)
                workers += len(conf.worker_specs or ())
        return builders, buildouts, workers

    def data(self) -> dict:
        merged: dict = {}
        for conf in self.configurators:
            if conf.plan is None:
                continue
            # "not created" has its own list; the other warnings, one line each
            warnings = [w.render(carets=False) for w in conf.warnings.diagnostics
                        if w.category != "not-created"]
            data = plan_data(conf.plan, list(conf.buildouts.values()), conf.worker_specs or (),
                             warnings)
            for key, value in data.items():
                if isinstance(value, list):
                    merged.setdefault(key, []).extend(value)
                else:
                    merged[key] = value
        return merged


def load_master(master_dir: str) -> Loaded:
    """Run master.cfg as Buildbot would, capturing our configurators."""
    from buildbot.config.errors import ConfigErrors
    from buildbot.config.master import FileLoader

    loaded = Loaded()
    if not os.path.isfile(os.path.join(master_dir, "master.cfg")):
        loaded.errors.append(f"{master_dir}: no master.cfg here (give a master directory)")
        return loaded
    BuildoutsConfigurator.capture = loaded.configurators
    sink = io.StringIO()
    try:
        # Buildbot's own checks of 20 000 builders run without the collector
        # too; the command then ends without a collection over the load.
        with contextlib.redirect_stdout(sink), collector_paused(freeze=True):
            FileLoader(os.path.abspath(master_dir), "master.cfg").loadConfig()
    except ConfigErrors as exc:
        loaded.errors.extend(exc.errors)
    finally:
        BuildoutsConfigurator.capture = None
    if not loaded.errors and not loaded.configurators:
        loaded.errors.append(f"{master_dir}/master.cfg does not use anybox_buildbot "
                             "(no BuildoutsConfigurator was made)")
    return loaded
