"""Declarative Buildbot 4 masters for zc.buildout projects.

``configure_from_buildouts(basedir, BuildmasterConfig)`` reads
``buildouts/MANIFEST.cfg`` and ``workers.cfg`` and fills the config with
workers, builders and schedulers; ``BuildoutsConfigurator`` gives control
over each stage. Errors in those files raise ``ConfigError``.
"""

from .configurator import BuildoutsConfigurator, configure_from_buildouts
from .errors import ConfigError

__all__ = ["BuildoutsConfigurator", "ConfigError", "configure_from_buildouts"]
