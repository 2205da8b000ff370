"""Command arguments holding a manifest template, rendered when the step starts.

``buildout-options = section:option=%(prop:testing_db)s`` must become
``bin/buildout``'s argument with the build's value, which is known only
once the ``testing-db`` step has run: the argument is a renderable that
Buildbot renders with the build's properties right before the command is
sent to the worker. The template was parsed when the manifest was loaded;
rendering is plain lookups.
"""

from __future__ import annotations

from dataclasses import dataclass

from buildbot.interfaces import IRenderable
from zope.interface import implementer

from ..template import Template


@implementer(IRenderable)
@dataclass(frozen=True)
class TemplateArgument:
    """``prefix`` + ``template`` rendered with the build's properties.

    A frozen dataclass compares by value, so identical steps are still
    shared between the factories of a fleet."""

    prefix: str
    template: Template

    def getRenderingFor(self, props) -> str:
        return self.prefix + self.template.render(lambda _option: None, props.getProperty)


def template_argument(prefix: str, template: Template) -> str | TemplateArgument:
    """The argument as plain text when the template reads no property."""
    if template.is_literal:
        return prefix + template.render(lambda _option: None, lambda _name: None)
    return TemplateArgument(prefix, template)
