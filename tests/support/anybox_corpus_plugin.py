"""Step sets that misbehave the way a buggy plugin does.

``tests/bad_inputs`` cases name them (``corpus-*``); the corpus test
registers them from ``corpus_plugin/`` (a distribution's metadata,
``anybox-corpus-plugin 1.0``) next to the built-in step sets. Each must
give a configuration error naming the step set, the distribution and the
manifest line, never a traceback.
"""

from __future__ import annotations

from buildbot.plugins import steps

from anybox_buildbot.stepoptions import Number, Option, Schema
from anybox_buildbot.subfactories import StepSet


def raises(options, context):
    """A bug while the steps are built."""
    raise KeyError("greeting")


def returns_list(options, context):
    """Steps, but not in a StepSet."""
    return [steps.ShellCommand(name="hello", command=["echo", "hello"])]


def returns_text(options, context):
    """A StepSet holding a command line instead of a step."""
    return StepSet(steps=["echo hello"])


def bad_schema(options, context):
    return StepSet()


bad_schema.schema = {"level": int}    # not a Schema


def _explode(options, buildout):
    raise ZeroDivisionError("division by zero")


def check_raises(options, context):
    return StepSet()


check_raises.schema = Schema(Option("level", Number(), default=1), check=_explode)


def typed(options, context):
    """A well-behaved step set with a typed option (``corpus-typed.level``)."""
    return StepSet(steps=[steps.ShellCommand(name="typed", command=["echo",
                                                                    str(options["level"])])])


typed.schema = Schema(Option("level", Number(minimum=1, maximum=9), default=1))


class _Fragile:
    """An option type with a bug: it raises something else than RuleError."""

    def parse(self, text, key):
        return int(text) // 0


def fragile(options, context):
    return StepSet()


fragile.schema = Schema(Option("level", _Fragile()))
