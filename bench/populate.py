"""Benchmark of ``BuildoutsConfigurator.populate()`` on a large, synthetic fleet.

Why this exists: a master reconfig runs ``populate()`` on every reload, and
a CI shop with a thousand buildouts must not wait for it. Building
Buildbot's own objects (``BuilderConfig``, ``BuildFactory``, steps,
``Worker``) has a fixed cost we cannot avoid, so the figure of merit is the
*ratio* of ``populate()`` to a hand-written config that builds the very
same objects with no parsing and no dispatch: whatever exceeds it is our
overhead. The script also measures how that time grows with the number of
buildouts (it must stay linear: a quadratic step hides well at 100
buildouts and hurts at 1000), and splits parsing from dispatch planning to
show where the time goes.

Usage (``make bench`` runs the first form)::

    .venv/bin/python bench/populate.py            # report, always exit 0
    .venv/bin/python bench/populate.py --check    # exit 1 when a goal is missed
    .venv/bin/python bench/populate.py --profile  # + cProfile of populate(1000)

Everything is generated deterministically (``random.Random(seed)``) in a
temporary directory, so two runs compare the same input.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from buildbot.plugins import schedulers, util, worker
from buildbot.process import buildstep
from buildbot.process.factory import BuildFactory

from anybox_buildbot import BuildoutsConfigurator
from anybox_buildbot.buildoutspec import BuildoutSpec
from anybox_buildbot.dispatch import make_plan
from anybox_buildbot.errors import Errors
from anybox_buildbot.gcpause import collector_paused
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.masterobjects import FORCE_SCHEDULER, prefer_priority
from anybox_buildbot.registry import compile_registry, default_capabilities
from anybox_buildbot.steps.capabilities import ChooseCapabilities
from anybox_buildbot.subfactories import load_registry
from anybox_buildbot.workers import WorkerSpec, load_workers

# -- goals -------------------------------------------------------------------
GOAL_POPULATE_SECONDS = 5.0     # populate() of 1000 buildouts
GOAL_RATIO = 1.5                # populate / hand-written baseline, at the largest N
GOAL_GROWTH = 13.0              # time(1000) / time(100); 10 is perfectly linear

DEFAULT_SIZES = (100, 250, 500, 1000)
N_WORKERS = 200
CAPS_PER_WORKER = 5
SEED = 20240611

# Capability names and the versions the fleet has of each. Mixed version
# shapes on purpose (9.6 vs 13, 3.141, single-component 7) to exercise the
# version comparison code the way a real fleet does.
CATALOG: dict[str, tuple[str, ...]] = {
    "postgresql": ("9.6", "13", "15"),
    "python": ("3.10", "3.11", "3.12"),
    "selenium-server": ("2.3", "3.141", "4.8"),
    "rabbitmq": ("3.8", "3.12"),
    "redis": ("6", "7"),
    "nodejs": ("16", "18", "20"),
    "memcached": ("1.5", "1.6"),
    "elasticsearch": ("7.17", "8.11"),
}

# Requirement lines as admins write them (section 3 of the spec).
BUILD_REQUIRES: tuple[str, ...] = (
    "postgresql >= 13",
    "python >= 3.10, != 3.11",
    "redis",
    "postgresql >= 9.6 < 15",
    "python >= 3.11",
    "nodejs >= 18",
    "rabbitmq",
    "postgresql == 15 OR == 9.6",
    "memcached >= 1.5",
    "elasticsearch ==8.*",
)
# build-for lines, keyed by capability name so two lines never pin the same one.
BUILD_FOR: tuple[str, ...] = (
    "postgresql >= 13",
    "python >= 3.11",
    "postgresql",
    "python",
    "redis",
    "nodejs >= 18",
    "rabbitmq >= 3.8",
)
CATEGORIES = ("odoo", "web", "lib", "nightly", "customer", "infra")
TEST_COMMANDS = ("bin/test -v", "bin/pytest -x tests", "bin/nosetests --with-coverage")
N_BASES = 10        # the first sections, that others may inherit from

SHARED_CFG = """\
[buildout]
parts = test
newest = false

[test]
recipe = zc.recipe.testrunner
eggs = example
"""


# -- input generation ----------------------------------------------------------
def _capability_line(rng: random.Random, name: str, version: str) -> str:
    """One ``capability`` line, with the options real workers carry."""
    words = [name, version]
    if name == "postgresql":
        words.append(f"port={5432 + CATALOG[name].index(version)}")
        if rng.random() < 0.6:
            words.append(f"bin=/usr/lib/postgresql/{version}/bin")
    elif name == "python" and rng.random() < 0.5:
        words.append(f"bin=/opt/python{version}/bin")
    elif name in ("redis", "rabbitmq") and rng.random() < 0.4:
        words.append(f"port={6000 + rng.randrange(100)}")
    return " ".join(words)


def workers_cfg(rng: random.Random, count: int = N_WORKERS) -> str:
    """``count`` workers with ``CAPS_PER_WORKER`` distinct capability
    instances each (several versions of one name allowed, as in the spec)."""
    pairs = [(name, version) for name, versions in CATALOG.items() for version in versions]
    out: list[str] = []
    for index in range(count):
        chosen = rng.sample(pairs, CAPS_PER_WORKER)
        lines = [_capability_line(rng, name, version) for name, version in chosen]
        out.append(f"[ci-worker-{index:03d}]")
        out.append(f"password = s3cret-{index}")
        out.append("capability = " + lines[0])
        out.extend("             " + line for line in lines[1:])
        if index % 40 == 7 and any(name == "selenium-server" for name, _ in chosen):
            out.append("build-only-if-requires = selenium-server")
        if index % 3 == 0:
            out.append(f"max_builds = {1 + index % 4}")
        if index % 5 == 0:
            out.append(f"worker_priority = {index % 20}")
        out.append(f"arch = {'x86_64' if index % 7 else 'aarch64'}")
        out.append("")
    return "\n".join(out)


def manifest_cfg(rng: random.Random, count: int) -> str:
    """``count`` buildouts mixing every feature the dispatcher handles.

    ``[DEFAULT]`` gives the buildout source, so sections without their own
    ``buildout`` line exercise it; about one in six inherits from one of the
    first sections.
    """
    out = ["[DEFAULT]", "buildout = standalone shared.cfg", "tree-stable-timer = 300", ""]
    for index in range(count):
        out.append(f"[app{index:04d}]")
        if index >= N_BASES and rng.random() < 0.16:
            out.append(f"inherit = app{rng.randrange(N_BASES):04d}")
        if rng.random() < 0.5:
            out.append("buildout = standalone shared.cfg")
        roll = rng.random()
        if roll < 0.35:
            # build-requires, 1 or 2 lines on distinct names
            lines = _distinct_names(rng, BUILD_REQUIRES, rng.choice((1, 2)))
            out.append("build-requires = " + lines[0])
            out.extend("    " + line for line in lines[1:])
        if 0.25 < roll < 0.75:
            lines = _distinct_names(rng, BUILD_FOR, 1 if rng.random() < 0.7 else 2)
            out.append("build-for = " + lines[0])
            out.extend("    " + line for line in lines[1:])
        if rng.random() < 0.5:
            out.append("build-category = " + " ".join(rng.sample(CATEGORIES, rng.choice((1, 2)))))
        if rng.random() < 0.3:
            out.append("env.APP_MODE = testing")
            out.append("env.DB_PORT = %(pg_version:+54)s%(db_port:-32)s")
        if rng.random() < 0.4:
            out.append("test-command = " + rng.choice(TEST_COMMANDS))
        if rng.random() < 0.1:
            out.append("buildout-options = buildout:newest=false")
            out.append("    versions:setuptools=69.0")
        out.append("")
    return "\n".join(out)


def _distinct_names(rng: random.Random, pool: Sequence[str], count: int) -> list[str]:
    """``count`` lines of ``pool`` that constrain different capability names."""
    picked: dict[str, str] = {}
    while len(picked) < count:
        line = rng.choice(pool)
        picked.setdefault(line.split()[0], line)
    return list(picked.values())


def make_master(root: Path, count: int, seed: int, workers: int = N_WORKERS) -> Path:
    """A master directory with ``count`` buildouts and ``workers`` workers."""
    rng = random.Random(seed)
    basedir = root / f"master-{count}"
    (basedir / "buildouts").mkdir(parents=True)
    (basedir / "buildouts" / "shared.cfg").write_text(SHARED_CFG)
    (basedir / "workers.cfg").write_text(workers_cfg(rng, workers))
    (basedir / "buildouts" / "MANIFEST.cfg").write_text(manifest_cfg(rng, count))
    return basedir


# -- what is measured ------------------------------------------------------------
def new_configurator(basedir: Path) -> BuildoutsConfigurator:
    """As an admin's master.cfg would: defaults plus one registered capability."""
    conf = BuildoutsConfigurator(basedir, {})
    conf.capabilities["rabbitmq"] = dict(
        version_prop="rabbitmq_version", abbrev="rmq",
        environ={"RMQ_BASE_URI": "%(cap(base_uri):-)s"})
    return conf


def run_populate(basedir: Path) -> BuildoutsConfigurator:
    conf = new_configurator(basedir)
    conf.populate()
    return conf


class StandInCapabilityStep(buildstep.BuildStep):
    """Baseline's stand-in for ``ChooseCapabilities``: a custom step taking
    the same constructor arguments (so Buildbot's step-factory bookkeeping
    costs the same), doing nothing of ours."""

    name = "capabilities"
    haltOnFailure = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        ours = {k: kwargs.pop(k) for k in list(kwargs) if k in self._params_names}
        super().__init__(**ours)
        self.payload = (args, kwargs)


StepRecipe = tuple[type, tuple, dict]


@dataclass(frozen=True)
class BaselineInput:
    """Everything the baseline needs, extracted from a populate() result so
    that parsing and dispatch are excluded from the baseline's time.

    Steps are given as (class, args, kwargs): the very arguments
    ``make_factory`` passed, so the baseline builds the same number and
    kinds of steps (FileDownload, ShellCommand...) even as factory.py
    evolves; only our capability step is swapped for a stand-in.
    """

    factories: dict[str, tuple[StepRecipe, ...]]
    builders: tuple[tuple[str, str, tuple[str, ...], dict, tuple[str, ...] | None], ...]
    workers: tuple[tuple[str, str, dict, dict], ...]
    schedulers: tuple[str, ...]

    @property
    def steps_per_factory(self) -> float:
        return sum(map(len, self.factories.values())) / max(len(self.factories), 1)


def baseline_input(conf: BuildoutsConfigurator) -> BaselineInput:
    """Read names, worker lists, properties, tags, step arguments back from
    ``conf.config``, as a hand-written master.cfg would hard-code them."""
    factories: dict[str, tuple[StepRecipe, ...]] = {}
    by_factory: dict[int, str] = {}
    for name, factory in conf.build_factories.items():
        recipes = []
        for step in factory.steps:
            cls = step.step_class
            if issubclass(cls, ChooseCapabilities):
                cls = StandInCapabilityStep
            recipes.append((cls, tuple(step.args), dict(step.kwargs)))
        factories[name] = tuple(recipes)
        by_factory[id(factory)] = name
    builders = tuple((b.name, by_factory[id(b.factory)], tuple(b.workernames),
                      dict(b.properties), tuple(b.tags) if b.tags else None)
                     for b in conf.config["builders"])
    workers = []
    for w in conf.config["workers"]:
        kwargs = {"max_builds": w.max_builds} if w.max_builds is not None else {}
        props = {k: v for k, (v, _src) in w.properties.asDict().items()
                 if k != "workername"}
        workers.append((w.workername, w.password, props, kwargs))
    force = [s for s in conf.config["schedulers"] if s.name == FORCE_SCHEDULER]
    return BaselineInput(factories, builders, tuple(workers),
                         tuple(force[0].builderNames) if force else ())


def run_baseline(data: BaselineInput) -> dict:
    """The same Buildbot objects populate() makes, written out by hand."""
    config: dict = {}
    made_factories: dict[str, BuildFactory] = {}
    for buildout, recipes in data.factories.items():
        factory = BuildFactory()
        for cls, args, kwargs in recipes:
            factory.addStep(cls(*args, **kwargs))
        made_factories[buildout] = factory
    config["workers"] = [worker.Worker(name, password, properties=dict(props), **kwargs)
                         for name, password, props, kwargs in data.workers]
    config["builders"] = [util.BuilderConfig(name=name, workernames=list(workers),
                                             factory=made_factories[buildout],
                                             properties=dict(props),
                                             tags=list(tags) if tags else None,
                                             nextWorker=prefer_priority)
                          for name, buildout, workers, props, tags in data.builders]
    config["schedulers"] = [schedulers.ForceScheduler(
        name=FORCE_SCHEDULER, builderNames=list(data.schedulers),
        properties=[util.StringParameter(name="buildout-tag", label="Buildout tag",
                                         default="")])]
    config["change_source"] = []
    return config


def run_parse(basedir: Path) -> tuple[tuple[WorkerSpec, ...], tuple[BuildoutSpec, ...]]:
    """load_workers + load_manifests (step-set options parsed there too),
    nothing else."""
    errors = Errors()
    workers = load_workers([str(basedir / "workers.cfg")], errors)
    buildouts = load_manifests([str(basedir / "buildouts" / "MANIFEST.cfg")], errors,
                               step_sets=load_registry().catalog)
    errors.raise_if_any()
    return workers, buildouts


def bench_registry() -> dict:
    """The compiled registry ``new_configurator`` ends up with."""
    caps = default_capabilities()
    caps["rabbitmq"] = dict(version_prop="rabbitmq_version", abbrev="rmq",
                            environ={"RMQ_BASE_URI": "%(cap(base_uri):-)s"})
    errors = Errors()
    registry = compile_registry(caps, errors)
    errors.raise_if_any()
    return registry


def run_paused(func: Callable[..., Any], *args: Any) -> Any:
    """``func(*args)`` with the cyclic collector paused, as populate() runs."""
    with collector_paused():
        return func(*args)


def best_of(func: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` calls; a collection before each call so a
    previous run's garbage is not billed to the next one."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start
        del result
        best = min(best, elapsed)
    return best


@dataclass
class Row:
    size: int
    builders: int
    misses: int
    steps: float
    populate: float
    baseline: float
    baseline_paused: float
    parse: float
    plan: float
    plan_mib: float

    @property
    def ratio(self) -> float:
        return self.populate / self.baseline if self.baseline else float("inf")


def traced_mib(func: Callable[[], object]) -> float:
    """Memory held by what ``func`` returns (MiB), as tracemalloc counts it:
    the plan stays in memory for the master's whole life."""
    gc.collect()
    tracemalloc.start()
    try:
        result = func()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del result
    return held / 2**20


def measure(basedir: Path, size: int, repeat: int) -> Row:
    conf = run_populate(basedir)        # warm-up; also the source of the baseline's input
    data = baseline_input(conf)
    same = run_baseline(data)
    if (len(same["builders"]), len(same["workers"])) != (len(conf.config["builders"]),
                                                          len(conf.config["workers"])):
        raise RuntimeError("the baseline does not build the same objects as populate()")
    populate = best_of(lambda: run_populate(basedir), repeat)
    baseline = best_of(lambda: run_baseline(data), repeat)
    # populate() pauses the cyclic collector (gcpause.py); a master.cfg
    # written by hand runs with it. Both are shown.
    paused = best_of(lambda: run_paused(run_baseline, data), repeat)
    # parse and plan as populate() runs them: without the cyclic collector
    parse = best_of(lambda: run_paused(run_parse, basedir), repeat)
    workers, buildouts = run_parse(basedir)
    registry = bench_registry()
    plan = best_of(lambda: run_paused(make_plan, list(buildouts), workers, registry,
                                      Errors()), repeat)
    plan_mib = traced_mib(lambda: make_plan(list(buildouts), workers, registry, Errors()))
    return Row(size, len(conf.config["builders"]), len(conf.misses), data.steps_per_factory,
               populate, baseline, paused, parse, plan, plan_mib)


# -- report ------------------------------------------------------------------------
def report(rows: list[Row], out: TextIO = sys.stdout, workers: int = N_WORKERS) -> bool:
    """Print the table and the goal lines; True when every goal is met."""
    print(f"anybox_buildbot populate() benchmark: {workers} workers x "
          f"{CAPS_PER_WORKER} capabilities, best of runs, seconds", file=out)
    print(f"{'buildouts':>9} {'builders':>8} {'missed':>6} {'steps':>5} {'populate':>9} "
          f"{'baseline':>9} {'ratio':>6} {'paused':>7} {'ratio':>6} {'parse':>8} {'plan':>8} "
          f"{'rest':>8} {'plan MiB':>8}",
          file=out)
    for r in rows:
        rest = r.populate - r.parse - r.plan
        print(f"{r.size:>9} {r.builders:>8} {r.misses:>6} {r.steps:>5.1f} {r.populate:>9.3f} "
              f"{r.baseline:>9.3f} {r.ratio:>6.2f} {r.baseline_paused:>7.3f} "
              f"{r.populate / r.baseline_paused:>6.2f} {r.parse:>8.3f} {r.plan:>8.3f} "
              f"{rest:>8.3f} {r.plan_mib:>8.1f}", file=out)
    print("  missed: builders not created (no capable worker); steps: per factory;\n"
          "  paused: the baseline with the cyclic collector paused, as populate() runs;\n"
          "  rest = populate - parse - plan: Buildbot objects, step sets, registry;\n"
          "  plan MiB: memory the plan holds (tracemalloc)",
          file=out)
    by_size = {r.size: r for r in rows}
    ok = True
    largest = max(rows, key=lambda r: r.size)

    def verdict(passed: bool, text: str) -> None:
        nonlocal ok
        ok = ok and passed
        print(f"{'PASS' if passed else 'FAIL'}: {text}", file=out)

    print(file=out)
    if 1000 in by_size:
        t = by_size[1000].populate
        verdict(t < GOAL_POPULATE_SECONDS,
                f"populate(1000) = {t:.3f} s (goal < {GOAL_POPULATE_SECONDS:g} s)")
    verdict(largest.ratio <= GOAL_RATIO,
            f"ratio populate/baseline at {largest.size} buildouts = {largest.ratio:.2f} "
            f"(goal <= {GOAL_RATIO:g})")
    small = min(rows, key=lambda r: r.size)
    if largest.size > small.size:
        ideal = largest.size / small.size
        growth = largest.populate / small.populate
        builders_growth = largest.builders / max(small.builders, 1)
        limit = GOAL_GROWTH * ideal / 10
        verdict(growth <= limit,
                f"growth {small.size} -> {largest.size} buildouts = {growth:.1f}x "
                f"(ideal {ideal:g}x, builders grew {builders_growth:.1f}x; "
                f"goal <= {limit:g}x)")
    return ok


def profile(basedir: Path, top: int = 25) -> None:
    """cProfile of one populate(), sorted by cumulative time."""
    run_populate(basedir)   # warm caches/imports so they don't dominate
    profiler = cProfile.Profile()
    profiler.enable()
    run_populate(basedir)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    print(f"\ncProfile of populate({basedir.name.split('-')[-1]}), top {top} cumulative:")
    print(stream.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a goal is missed")
    parser.add_argument("--profile", action="store_true",
                        help="print the top 25 cumulative cProfile entries of populate(1000)")
    parser.add_argument("--sizes", type=lambda s: tuple(int(x) for x in s.split(",")),
                        default=DEFAULT_SIZES, help="comma-separated buildout counts")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure (best kept)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--workers", type=int, default=N_WORKERS,
                        help="workers in workers.cfg (the project aims at 2000)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="anybox-bench-") as tmp:
        root = Path(tmp)
        rows = []
        for size in sorted(args.sizes):
            basedir = make_master(root, size, args.seed, args.workers)
            rows.append(measure(basedir, size, args.repeat))
            print(f"  measured {size} buildouts", file=sys.stderr)
        ok = report(rows, workers=args.workers)
        if args.profile:
            size = 1000 if 1000 in args.sizes else max(args.sizes)
            profile(root / f"master-{size}")
    if args.check and not ok:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
