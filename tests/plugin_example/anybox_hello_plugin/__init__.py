"""``hello-plugin``: an example step set living in its own package.

It shows the whole step-set interface: a callable ``(options, context)``
returning a ``StepSet``; a ``schema`` attribute declaring the options it
takes, with their types and defaults (a typo like ``hello-plugin.greting``
is then a configuration error, and so is an empty or multi-line greeting,
both reported at their manifest line when the manifest is loaded); and
commands as argument lists run in the buildout's folder with the build
environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from buildbot.plugins import steps

from anybox_buildbot.stepoptions import Option, Schema, Text
from anybox_buildbot.subfactories import StepContext, StepSet

DEFAULT_GREETING = "Hello"


def hello_steps(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """One step, ``hello``, printing ``hello-plugin.greeting`` on the worker
    (and, as a cleanup step, ``goodbye``, which runs even after a failure)."""
    greeting = options["greeting"]     # one non-empty line, checked at load
    hello = steps.ShellCommand(
        name="hello", command=["echo", greeting, "from", context.buildout.name],
        workdir=context.workdir, env=context.env, description=["greeting"],
        descriptionDone=["greeted"])
    goodbye = steps.ShellCommand(name="goodbye", command=["echo", "goodbye"],
                                 workdir=context.workdir, env=context.env)
    return StepSet(steps=[hello], cleanup=[goodbye])


hello_steps.schema = Schema(  # type: ignore[attr-defined]
    Option("greeting", Text(), default=DEFAULT_GREETING,
           hint="e.g. hello-plugin.greeting = Bonjour", doc="what hello prints"),
)
