"""Which secrets a manifest may name, checked once per configuration load.

A manifest's ``token=%(secret:NAME)s`` sends that secret to a server the
manifest names: ``manifest_secrets`` lists the names it may use, and the
secrets the master uses itself (SMTP credentials, worker passwords) are
never among them. The per-line checks are ``notify.check_secrets``'s;
this module gathers what the configurator knows for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .buildoutspec import BuildoutSpec
from .errors import ConfigError, Errors
from .notify import MailSettings, check_secrets
from .rules import secret_name
from .workers import WorkerSpec


def manifest_secret_names(value: str | Sequence[str] | None) -> frozenset[str] | None:
    """``manifest_secrets`` as a set of names; a lone string is one name."""
    if value is None:
        return None
    names = (value,) if isinstance(value, str) else tuple(value)
    bad = [n for n in names if secret_name(f"%(secret:{n})s") != n]
    if bad:
        raise ConfigError([f"manifest_secrets: {bad[0]!r} is not a secret name (give "
                           "names such as 'github_token', as written in "
                           "token=%(secret:github_token)s)"])
    return frozenset(names)


def reserved_secrets(mail_settings: MailSettings, workers: Iterable[WorkerSpec]
                     ) -> dict[str, str]:
    """Secrets the master uses itself -> what uses them (for messages)."""
    reserved = {}
    for key in ("smtp_user", "smtp_password"):
        name = secret_name(getattr(mail_settings, key))
        if name is not None:
            reserved[name] = f"the master's {key}"
    for spec in workers:
        if spec.secret_name is not None:
            reserved[spec.secret_name] = f"the password of worker {spec.name!r}"
    return reserved


def check_manifest_secrets(manifest_secrets: frozenset[str] | None,
                           mail_settings: MailSettings, workers: Iterable[WorkerSpec],
                           buildouts: Iterable[BuildoutSpec], errors: Errors) -> None:
    """Manifests name only secrets they may send (``notify.check_secrets``);
    ``manifest_secrets`` itself must not list a reserved one."""
    reserved = reserved_secrets(mail_settings, workers)
    for name in sorted((manifest_secrets or frozenset()) & reserved.keys()):
        errors.add(None, f"manifest_secrets lists {name!r}, which is {reserved[name]}",
                   hint="a manifest names the server its secrets are sent to: list "
                   "only tokens meant for such servers", subject="BuildoutsConfigurator")
    check_secrets(buildouts, reserved, manifest_secrets, errors)
