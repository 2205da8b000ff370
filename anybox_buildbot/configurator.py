"""``BuildoutsConfigurator``: manifests + workers.cfg -> BuildmasterConfig.

Data flows one way: files are parsed into frozen values (``workers``,
``manifest``), checked together, turned into a dispatch plan, and only then
into Buildbot objects. Every error of every file is collected before
anything is added to the master's config, so a broken manifest leaves a
running master on its previous configuration.

One pass: an error in one file never stops the checks of the others. A
broken workers.cfg still lets the manifests be loaded, planned and their
step sets built, so their errors come in the same report. Only the plan's
warnings (builders not created...) are left out then: with workers missing
they would be wrong.

Warnings go through one channel, ``self.warnings`` (``errors.Warnings``):
``check`` prints it, and the master logs each warning once per load.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from buildbot.process.factory import BuildFactory
from twisted.python import log

from .arguments import check_capability_entry, check_configurator_arguments, check_keywords
from .buildoutspec import DEFAULT_TREE_STABLE_TIMER, BuildoutSpec, Watch
from .dispatch import make_plan
from .errors import ConfigError, Diagnostic, Errors, Location, Warnings
from .factory import FactoryMaker
from .gcpause import collector_paused
from .manifest import load_manifests
from .masterobjects import (
    FORCE_SCHEDULER,
    builder_configs,
    force_scheduler,
    prefer_priority,
    worker_objects,
)
from .multimaster import MultiMaster, parse_multi_master
from .multimaster import apply as apply_multi_master
from .notify import MailSettings
from .plan import ChoiceBook, Miss, Plan
from .planwarnings import plan_warnings
from .pollers import PollInterval, make_change_sources, make_schedulers
from .registry import CapabilitySpec, compile_registry, default_capabilities
from .reporters import make_reporters
from .secretchecks import check_manifest_secrets, manifest_secret_names
from .sharedstate import StoredReport, configured_db_url, read_stored_reports
from .subfactories import BrokenStepSet, StepSetFactory, catalog_of, load_registry
from .watching import WATCH_DIR, Repo, RepoWatch, collect
from .watchreports import auto_watch_prefixes, last_report
from .workers import WorkerSpec, load_workers

STRICT_HINT = "fix the worker fleet or the requirements (strict mode)"


class BuildoutsConfigurator:
    """Fill a BuildmasterConfig from MANIFEST.cfg files and workers.cfg."""

    #: When a list, every configurator made appends itself: the command line
    #: tools load master.cfg as Buildbot would and inspect what it built.
    capture: list[BuildoutsConfigurator] | None = None

    def __init__(self, buildmaster_dir: str | os.PathLike, buildmaster_config: dict,
                 manifest_paths: Sequence[str] = ("buildouts/MANIFEST.cfg",),
                 workers_path: str | Sequence[str] = "workers.cfg",
                 poll_interval: PollInterval = None,
                 capabilities: Mapping[str, Mapping] | None = None,
                 strict: bool = False,
                 vcs_master_url_rewrite_rules: Sequence[tuple[str, str]] = (),
                 auto_watch_allowed: str | Sequence[str] | None = None,
                 manifest_secrets: str | Sequence[str] | None = None,
                 mail_from: str = "buildbot@localhost", smtp_host: str = "localhost",
                 smtp_port: int = 25, smtp_user: str | None = None,
                 smtp_password: str | None = None,
                 tree_stable_timer: int = DEFAULT_TREE_STABLE_TIMER,
                 fleet_page: bool = True,
                 multi_master: Mapping[str, str] | None = None) -> None:
        # master.cfg is Python: a wrong type is one ConfigError naming the
        # argument, before it can fail deep inside the load (arguments.py).
        check_configurator_arguments({k: v for k, v in locals().items() if k != "self"})
        self.basedir = Path(os.path.abspath(buildmaster_dir))
        self.config = buildmaster_config
        #: Several masters on one database and message queue (None: one master).
        self.multi_master = self._set_multi_master(multi_master)
        self.manifest_paths = tuple(manifest_paths)
        self.workers_paths = ((workers_path,) if isinstance(workers_path, (str, os.PathLike))
                              else tuple(workers_path))
        self.poll_interval = poll_interval
        #: for buildouts whose manifest does not set ``tree-stable-timer``
        self.tree_stable_timer = tree_stable_timer
        self.vcs_master_url_rewrite_rules = list(vcs_master_url_rewrite_rules)
        #: Prefixes of the repositories any auto-watch report may add; None:
        #: each buildout's own hosts (``watching.default_allowed``).
        self.auto_watch_allowed = auto_watch_prefixes(auto_watch_allowed)
        #: Where masters before shared reports kept them (still read, never written).
        self.watch_dir = self.basedir / WATCH_DIR
        #: Secrets a manifest's ``token=%(secret:NAME)s`` may name; None: any
        #: but those the master uses itself (``secretchecks.reserved_secrets``).
        self.manifest_secrets = manifest_secret_names(manifest_secrets)
        self.strict = strict
        #: Whether ``populate`` adds the Fleet page to the web UI (``#/fleet``).
        self.fleet_page = fleet_page
        # Mail of manifest 'notify = mail ...' lines and of notify_on_missing.
        self.mail_settings = MailSettings(mail_from, smtp_host, smtp_port, smtp_user,
                                          smtp_password)
        self.capabilities: dict[str, dict] = (default_capabilities() if capabilities is None
                                              else {k: dict(v) for k, v in capabilities.items()})
        self.build_factories: dict[str, BuildFactory] = {}
        self.factories_to_builders: dict[str, list[str]] = {}
        self.worker_specs: tuple[WorkerSpec, ...] | None = None
        self.buildouts: dict[str, BuildoutSpec] = {}
        self.plan: Plan | None = None
        #: The plan's instance decisions, read by the capability step of
        #: every factory of this load (filled by ``make_builders``/``populate``).
        self.choices = ChoiceBook()
        self.misses: tuple[Miss, ...] = ()
        #: Every warning of this load, with its location (``check`` prints them).
        self.warnings = Warnings()
        self._step_sets: Mapping[str, StepSetFactory | BrokenStepSet] | None = None
        self._registry: dict[str, CapabilitySpec] | None = None
        self._watch_cache: tuple[tuple[str, ...], tuple] | None = None
        if BuildoutsConfigurator.capture is not None:
            BuildoutsConfigurator.capture.append(self)

    # -- helpers -----------------------------------------------------------
    def _set_multi_master(self, value: Mapping[str, str] | None) -> MultiMaster | None:
        """``multi_master`` (checked by ``arguments``) into c['db'], c['mq'] and
        c['multiMaster'], unless master.cfg already says otherwise."""
        errors = Errors()
        settings = parse_multi_master(value, errors)
        if settings is not None:
            apply_multi_master(settings, self.config, errors)
        errors.raise_if_any()
        return settings

    def _path(self, path: str | os.PathLike) -> tuple[str, str]:
        """(absolute path, name shown in messages)."""
        full = path if os.path.isabs(path) else os.path.join(self.basedir, path)
        return str(full), str(path)

    def add_capability_environ(self, name: str, spec: Mapping) -> None:
        """Register or extend a capability's version_prop/abbrev/environ."""
        check_capability_entry(name, spec)
        entry = self.capabilities.setdefault(name, {})
        for key, value in spec.items():
            if key == "environ":
                entry.setdefault("environ", {}).update(value)
            else:
                entry[key] = value
        self._registry = None

    def _compiled_registry(self, errors: Errors) -> dict[str, CapabilitySpec]:
        if self._registry is None:
            self._registry = compile_registry(self.capabilities, errors)
        return self._registry

    def _load_workers(self, paths: Iterable[str | os.PathLike], errors: Errors
                      ) -> tuple[WorkerSpec, ...]:
        """Worker files, capability options checked against the registry."""
        registry = self._compiled_registry(errors)
        pairs = [self._path(p) for p in paths]
        specs = load_workers([full for full, _ in pairs], errors, dict(pairs), registry)
        self._note_deprecations(specs)
        return specs

    def _note_deprecations(self, specs: Iterable[WorkerSpec | BuildoutSpec]) -> None:
        """Old spellings read as ours go to the warnings channel."""
        for spec in specs:
            for note in spec.deprecations:
                self.warnings.put(note)

    def _log_warnings(self) -> None:
        """Log the warnings not logged yet: each once per load."""
        self.warnings.log(log.msg)

    def _load_buildouts(self, paths: Iterable[str | os.PathLike], errors: Errors
                        ) -> tuple[BuildoutSpec, ...]:
        """Load manifests; step-set names and options are checked and parsed
        there, on every section, with the schemas of the known step sets (a
        plugin is imported when a manifest first names it)."""
        pairs = [self._path(p) for p in paths]
        if self._step_sets is None:
            self._step_sets = registry = load_registry()
            for warning in registry.shadowed:
                self.warnings.add(None, warning, category="plugin")
        specs = load_manifests([full for full, _ in pairs], errors, dict(pairs),
                               step_sets=catalog_of(self._step_sets))
        self._note_deprecations(specs)
        for spec in specs:
            if spec.name in self.buildouts:
                errors.add(spec.location, f"buildout {spec.name!r} is already registered "
                           f"from {self.buildouts[spec.name].location}", f"[{spec.name}]",
                           hint="section names must be unique over all manifests")
        return specs

    # -- public API ----------------------------------------------------------
    def make_workers(self, path: str | os.PathLike | None = None) -> list:
        """Load workers.cfg fragment(s); add the Worker objects to the config."""
        errors = Errors()
        specs = self._load_workers([path] if path is not None else self.workers_paths, errors)
        self._log_warnings()
        errors.raise_if_any()
        self.worker_specs = (self.worker_specs or ()) + specs
        return self._add_workers(specs)

    def _add_workers(self, specs: Sequence[WorkerSpec]) -> list:
        made = worker_objects(specs)
        self.config.setdefault("workers", []).extend(made)
        return made

    def register_build_factories(self, manifest_path: str | os.PathLike) -> dict[str,
                                                                                 BuildFactory]:
        """Load one manifest and make one BuildFactory per buildout."""
        errors = Errors()
        registry = self._compiled_registry(errors)
        specs = self._load_buildouts([manifest_path], errors)
        made = self._make_factories(specs, registry, errors)   # step-set errors too
        self._log_warnings()
        errors.raise_if_any()
        return self._register(specs, made)

    def _make_factories(self, specs: Sequence[BuildoutSpec],
                        registry: Mapping[str, CapabilitySpec],
                        errors: Errors) -> dict[str, BuildFactory]:
        """Factories of ``specs``; a step set that fails is reported into ``errors``."""
        assert self._step_sets is not None
        maker = FactoryMaker(self.choices, registry, self._step_sets, self.watch_dir,
                             self.basedir, errors)
        return {spec.name: maker.make(spec) for spec in specs}

    def _register(self, specs: Sequence[BuildoutSpec], made: Mapping[str, BuildFactory]
                  ) -> dict[str, BuildFactory]:
        for spec in specs:
            self.buildouts[spec.name] = spec
        self.build_factories.update(made)
        return dict(made)

    def make_builders(self) -> list:
        """Dispatch the registered buildouts over the workers; add BuilderConfigs."""
        errors = Errors()
        plan = self._make_plan(errors)
        self._log_warnings()
        errors.raise_if_any()
        return self._add_builders(plan)

    def _make_plan(self, errors: Errors) -> Plan:
        """The plan, and its warnings when the load is clean so far.

        After an error in a worker file or a manifest the plan misses those
        workers or buildouts: "not created" and "no worker declares" would
        then be wrong, so they wait for the fixed files. In strict mode a
        builder not created is an error.
        """
        clean = not errors
        registry = self._compiled_registry(errors)
        buildouts = list(self.buildouts.values())
        plan = make_plan(buildouts, self.worker_specs or (), registry, errors)
        self.plan = plan
        self.choices.record(plan, self.worker_specs or ())
        self.misses = plan.misses
        if clean:
            for warning in plan_warnings(plan, buildouts, self.worker_specs or ()):
                if self.strict and warning.category == "not-created":
                    errors.put(Diagnostic(warning.location, warning.problem, warning.text,
                                          STRICT_HINT))
                else:
                    self.warnings.put(warning)
        return plan

    def _add_builders(self, plan: Plan) -> list:
        made = builder_configs(plan, self.build_factories, self.buildouts)
        self.factories_to_builders.update(plan.builders_of())
        self.config.setdefault("builders", []).extend(made)
        return made

    def make_schedulers(self) -> list:
        """The ``force`` scheduler over every builder made so far, and the
        change-triggered / nightly schedulers of the registered buildouts."""
        made = self._schedulers(self.factories_to_builders, self._watches()[1])
        self._log_warnings()
        self.config.setdefault("schedulers", []).extend(made)
        return made

    def _schedulers(self, builders_of: Mapping[str, Sequence[str]],
                    watches: Mapping[str, tuple[Watch, ...]]) -> list:
        names = sorted(n for names in builders_of.values() for n in names)
        made = []
        if names:
            made.append(force_scheduler(names, (w.name for w in self.worker_specs or ())))
        made.extend(make_schedulers(self.buildouts.values(), watches,
                                    {k: list(v) for k, v in builders_of.items()},
                                    self.tree_stable_timer))
        return made

    def _watches(self, errors: Errors | None = None
                 ) -> tuple[dict[Repo, RepoWatch], dict[str, tuple[Watch, ...]]]:
        """Manifest watches merged with the auto-watch reports of past builds.

        Computed once per set of registered buildouts: reports are read (and
        their warnings logged) once per configuration load. A rewrite rule
        giving a refused URL is an error of ``errors`` (raised here without).
        """
        key = tuple(self.buildouts)
        if self._watch_cache is not None and self._watch_cache[0] == key:
            return self._watch_cache[1]
        reports = {}
        stored = self._stored_reports()
        for spec in self.buildouts.values():
            if spec.auto_watch:
                found, warnings = last_report(spec, stored, self.watch_dir, self.basedir)
                for warning in warnings:
                    self.warnings.add(spec.location, warning, category="auto-watch",
                                      subject=f"buildout [{spec.name}] auto-watch")
                reports[spec.name] = found
        result = collect(self.buildouts.values(), reports, self.vcs_master_url_rewrite_rules,
                         allowed=self.auto_watch_allowed, errors=errors,
                         warnings=self.warnings)
        if errors:
            return result  # the load fails: nothing to cache
        self._watch_cache = (key, result)
        return result

    def _stored_reports(self) -> dict[str, StoredReport]:
        """The reports builds stored in the database (every master's), read
        once per load; a database that cannot be read is a warning."""
        if not any(spec.auto_watch for spec in self.buildouts.values()):
            return {}
        stored, problem = read_stored_reports(configured_db_url(self.config), self.basedir)
        if problem:
            self.warnings.add(None, problem, category="auto-watch")
        return stored

    def _check_force_scheduler(self, errors: Errors) -> None:
        """A scheduler of master.cfg named ``force`` (the sample master.cfg
        of anybox.buildbot.odoo added one) would collide with ours."""
        for scheduler in self.config.get("schedulers", ()):
            if getattr(scheduler, "name", None) == FORCE_SCHEDULER:
                errors.add(None, f"master.cfg already has a scheduler named "
                           f"{FORCE_SCHEDULER!r} ({type(scheduler).__name__})",
                           hint="populate() makes one ForceScheduler 'force' for every "
                           "builder, with the 'Buildout tag' field: remove yours from "
                           "master.cfg (or rename it)", subject="BuildoutsConfigurator")

    def make_change_sources(self) -> list:
        """One poller per distinct watched repository."""
        made = self._change_sources(*self._watches())
        self._log_warnings()
        self.config.setdefault("change_source", []).extend(made)
        return made

    def _change_sources(self, repos: Mapping[Repo, RepoWatch],
                        watches: Mapping[str, Sequence[Watch]]) -> list:
        """Pollers; a repository not polled is a warning at a line watching it."""
        made = []
        for repo, watch in repos.items():
            location = self._watch_location(repo, watch, watches)
            made.extend(make_change_sources(
                {repo: watch}, self.poll_interval,
                lambda text, at=location: self.warnings.add(at, text, category="polling")))
        return made

    def _watch_location(self, repo: Repo, watch: RepoWatch,
                        watches: Mapping[str, Sequence[Watch]]) -> Location | None:
        """The manifest line of the first buildout watching ``repo``."""
        names = sorted({name for names in watch.branches.values() for name in names})
        for name in names:
            for item in watches.get(name, ()):
                if (item.vcs, item.url) == (repo.vcs, repo.url) and item.location is not None:
                    return item.location
        spec = self.buildouts.get(names[0]) if names else None
        return spec.location if spec is not None else None

    def populate(self) -> None:
        """Do everything in one pass: all errors of all files, or nothing.

        Every stage runs whatever failed before it (see the module
        docstring); the warnings are logged once, then the errors raised
        before anything is added to the config.
        """
        with collector_paused():
            self._populate()

    def _populate(self) -> None:
        errors = Errors()
        registry = self._compiled_registry(errors)
        worker_specs = self._load_workers(self.workers_paths, errors)
        self.worker_specs = worker_specs
        specs = self._load_buildouts(self.manifest_paths, errors)
        for spec in specs:
            self.buildouts.setdefault(spec.name, spec)
        check_manifest_secrets(self.manifest_secrets, self.mail_settings, worker_specs,
                               self.buildouts.values(), errors)
        self._check_force_scheduler(errors)
        plan = self._make_plan(errors)
        made = self._make_factories(specs, registry, errors)
        builders_of = plan.builders_of()
        reporters = make_reporters(self.buildouts.values(), builders_of, worker_specs,
                                   self.mail_settings, errors)
        repos, watches = self._watches(errors)   # a bad rewrite rule is an error too
        made_schedulers = self._schedulers(builders_of, watches)
        pollers = self._change_sources(repos, watches)   # their warnings, before raising
        self._log_warnings()
        errors.raise_if_any()
        self._add_workers(worker_specs)
        self._register(specs, made)
        self._add_builders(plan)
        self.config.setdefault("schedulers", []).extend(made_schedulers)
        self.config.setdefault("change_source", []).extend(pollers)
        self.config.setdefault("services", []).extend(reporters)
        if self.fleet_page:
            self.make_fleet_page()

    def make_fleet_page(self) -> str | None:
        """Add the Fleet page (``#/fleet``) showing this load's plan to the web
        UI; ``populate`` calls it unless ``fleet_page=False``. Returns the
        page's name, or None without a web UI (no ``c['www']``) or plan."""
        www = self.config.get("www")
        if not isinstance(www, dict) or self.plan is None:
            return None
        # Flask is imported only by loads that make the page.
        from .fleet.app import install, make_app
        from .fleet.model import build_model

        model = build_model(self.plan, self.worker_specs or (), list(self.buildouts.values()),
                            self.warnings.diagnostics)
        return install(www, make_app(model))


def configure_from_buildouts(basedir: str | os.PathLike, config: dict,
                             **kwargs) -> BuildoutsConfigurator:
    """One call for master.cfg: read buildouts/MANIFEST.cfg and workers.cfg."""
    check_keywords("configure_from_buildouts", BuildoutsConfigurator.__init__, kwargs,
                   skip=3)
    configurator = BuildoutsConfigurator(basedir, config, **kwargs)
    configurator.populate()
    return configurator


__all__ = ["BuildoutsConfigurator", "ConfigError", "Location", "configure_from_buildouts",
           "prefer_priority"]
