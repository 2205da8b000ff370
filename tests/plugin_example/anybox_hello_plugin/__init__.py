"""``hello-plugin``: an example step set living in its own package.

It shows the whole step-set interface: a callable ``(options, context)``
returning a ``StepSet``, an ``options`` attribute naming the options it
takes (a typo like ``hello-plugin.greting`` is then a configuration
error), option checks reported at their manifest line through
``context.option_error``, and commands as argument lists run in the
buildout's folder with the build environment.
"""

from __future__ import annotations

from collections.abc import Mapping

from buildbot.plugins import steps

from anybox_buildbot.subfactories import StepContext, StepSet

DEFAULT_GREETING = "Hello"


def hello_steps(options: Mapping[str, str], context: StepContext) -> StepSet:
    """One step, ``hello``, printing ``hello-plugin.greeting`` on the worker
    (and, as a cleanup step, ``goodbye``, which runs even after a failure)."""
    greeting = options.get("greeting", DEFAULT_GREETING).strip()
    if not greeting or "\n" in greeting:
        context.option_error("hello-plugin", "greeting", "expected one non-empty line",
                             greeting, hint="e.g. hello-plugin.greeting = Bonjour")
    hello = steps.ShellCommand(
        name="hello", command=["echo", greeting, "from", context.buildout.name],
        workdir=context.workdir, env=context.env, description=["greeting"],
        descriptionDone=["greeted"])
    goodbye = steps.ShellCommand(name="goodbye", command=["echo", "goodbye"],
                                 workdir=context.workdir, env=context.env)
    return StepSet(steps=[hello], cleanup=[goodbye])


hello_steps.options = frozenset({"greeting"})  # type: ignore[attr-defined]
