"""A step-set plugin: ``flake8`` runs ``bin/flake8`` on ``flake8.paths``.

Installed as a package whose ``pyproject.toml`` registers it in the
``anybox_buildbot.subfactories`` entry point group (docs/steps.rst).
"""

from buildbot.plugins import steps

from anybox_buildbot.subfactories import StepSet


def flake8(options, context):
    """``post-buildout-steps = flake8``, with ``flake8.paths = src tests``."""
    paths = options.get("paths", "src").split()
    return StepSet(steps=[steps.ShellCommand(
        name="flake8", command=["bin/flake8", *paths],
        env=context.env, workdir=context.workdir, haltOnFailure=True)])


# The options it knows: any other 'flake8.OPTION' is a configuration error.
flake8.options = frozenset({"paths"})
