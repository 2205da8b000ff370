"""A step-set plugin: ``flake8`` runs ``bin/flake8`` on ``flake8.paths``.

Installed as a package whose ``pyproject.toml`` registers it in the
``anybox_buildbot.subfactories`` entry point group (docs/stepsets.rst).
"""

from buildbot.plugins import steps

from anybox_buildbot.stepoptions import Number, Option, Paths, Schema
from anybox_buildbot.subfactories import StepSet


def flake8(options, context):
    """``post-buildout-steps = flake8``, with ``flake8.paths = src tests``."""
    # Values come parsed and checked by the schema below: a tuple of paths,
    # an int or None. Nothing to check here, nothing can be wrong.
    command = ["bin/flake8", *options["paths"]]
    if options["max-line-length"] is not None:
        command.insert(1, f"--max-line-length={options['max-line-length']}")
    return StepSet(steps=[steps.ShellCommand(
        name="flake8", command=command,
        env=context.env, workdir=context.workdir, haltOnFailure=True)])


# The options it takes: any other 'flake8.OPTION' is a configuration error,
# and so is a bad value, reported at its manifest line when it is loaded.
flake8.schema = Schema(
    Option("paths", Paths(), default=("src",), doc="what to check"),
    Option("max-line-length", Number(minimum=40, maximum=200), default=None,
           hint="e.g. flake8.max-line-length = 100", doc="longest line allowed"),
)
