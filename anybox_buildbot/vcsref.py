"""What repository locations and revision names each tool accepts from us.

Why: a URL or a branch written in a manifest, reported by a build
(auto-watch) or produced by the master's rewrite rules becomes an argument
of ``git``, ``hg`` or ``bzr``, on the master (pollers) or on a worker
(checkouts). An argument list keeps the shell out, but not the tools' own
option parsing: ``--upload-pack=CMD`` or ``--config=hooks.pre-pull=CMD``
given where a URL or a branch is expected runs CMD, and git has URL forms
that run commands by design (``ext::sh -c ...``). So every location and
revision goes through this one allow-list, whatever its origin:

- a URL is one of the forms the tool needs (below), is made of URL
  characters only (no whitespace, control or shell-quoting characters),
  never starts with ``-``, has no ``-`` at the start of its user or host
  (``ssh://-oProxyCommand=CMD/x``), no ``::`` (git's remote helpers), and
  no ``..`` path segment, looked for after percent-decoding, since git and
  hg decode ``file://`` URLs (``..%2F..%2Fx`` climbs two folders): a
  rewrite rule or an allowed prefix must not be walked out of;
- a branch, tag or revision never starts with ``-``, has no ``..``, no
  whitespace or control characters, and for git follows the
  ``git check-ref-format`` rules, for Mercurial the label rules plus no
  revset syntax (a tag is given to ``hg update --rev=TAG``).

The forms per tool:

======== =================================================================
git      ``https://``, ``http://``, ``ssh://``, ``git://``, ``file://``,
         scp-like ``[user@]host:path``, an absolute path
hg       ``https://``, ``http://``, ``ssh://``, ``file://``, an absolute
         path (no ``#fragment``: the branch is given apart)
bzr      ``https://``, ``http://``, ``bzr://``, ``bzr+ssh://``,
         ``sftp://``, ``file://``, ``lp:NAME``, an absolute path
archive  ``https://``, ``http://``, ``file://``, an absolute path; the
         only interpolations are build properties, ``%(prop:NAME)s`` and
         ``%(prop:NAME:-DEFAULT)s`` (never ``%(secret:...)s``: the worker
         would send a master secret to the URL's host); the worker script
         checks the rendered URL again at run time with the same rules
======== =================================================================

Pure functions of text: no Buildbot, no file system.
"""

from __future__ import annotations

import re
import urllib.parse

TOOLS = ("git", "hg", "bzr", "archive")
MAX_URL_LENGTH = 2048
MAX_REF_LENGTH = 255

SCHEMES: dict[str, tuple[str, ...]] = {
    "git": ("https", "http", "ssh", "git", "file"),
    "hg": ("https", "http", "ssh", "file"),
    "bzr": ("https", "http", "bzr", "bzr+ssh", "sftp", "file"),
    "archive": ("https", "http", "file"),
}

#: The hint of an error about a URL: what would be valid.
URL_FORMS: dict[str, str] = {
    "git": "git URLs: https://HOST/PATH, http://, ssh://[USER@]HOST/PATH, git://, "
           "file:///PATH, USER@HOST:PATH or an absolute path",
    "hg": "hg URLs: https://HOST/PATH, http://, ssh://[USER@]HOST/PATH, file:///PATH "
          "or an absolute path",
    "bzr": "bzr URLs: https://HOST/PATH, http://, bzr://, bzr+ssh://, sftp://, "
           "file:///PATH, lp:NAME or an absolute path",
    "archive": "archive URLs: https://HOST/PATH, http://, file:///PATH or an absolute "
               "path on the worker, possibly with %(prop:NAME)s",
}

REF_FORMS: dict[str, str] = {
    "git": "a git branch or tag name, e.g. main, 17.0, release/v2 (no leading '-', "
           "no '..', whitespace or any of ~^:?*[\\, no '@{', not ending in '/', '.' "
           "or '.lock')",
    "hg": "a Mercurial branch or tag name, e.g. default, stable, 1.2 (no leading '-', "
          "no '..', whitespace or any of :'\"\\()!&|~^,)",
    "bzr": "a name without a leading '-', '..', whitespace or control characters",
}

# RFC 3986 characters: unreserved, reserved and '%'. Anything else (space,
# control, '"', '\\', '`', '<', '>', '{', '}', '|', '^') has no business
# in a repository URL; non-ASCII letters of local paths are let through.
_URL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                       "-._~:/?#[]@!$&'()*+,;=%")
_SCHEME_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)", re.S)
_AUTHORITY = re.compile(r"""
    (?:(?P<user>[A-Za-z0-9_.~+%!$&'()*,;=][A-Za-z0-9_.~+%!$&'()*,;=:-]*)@)?  # user[:pw]@
    (?P<host>[A-Za-z0-9_][A-Za-z0-9_.-]*|\[[0-9A-Fa-f:.]+\])                 # never '-...'
    (?::(?P<port>[0-9]{1,5}))?                                               # :port
    """, re.X)
_SCP_LIKE = re.compile(r"""
    (?:(?P<user>[A-Za-z0-9_][A-Za-z0-9_.+~-]*)@)?   # git@
    (?P<host>[A-Za-z0-9_][A-Za-z0-9_.-]*)           # github.com (no '/' before ':')
    :(?P<path>[^-].*)                               # acme/erp.git, never '-...'
    """, re.X | re.S)
#: A prefix naming every scp-like location of a host: ``git@h`` or ``git@h:``.
_BARE_HOST = re.compile(r"(?:(?P<user>[A-Za-z0-9_][A-Za-z0-9_.+~-]*)@)?"
                        r"(?P<host>[A-Za-z0-9_][A-Za-z0-9_.-]*):?(?P<path>)")
_LAUNCHPAD = re.compile(r"lp:[A-Za-z0-9_~+.][A-Za-z0-9_~+./-]*")
#: The only interpolations an archive URL may hold: a build property, with
#: an optional plain default. Not ``%(secret:...)s`` (the worker would send
#: a master secret to the URL's host), ``%(worker:...)s``, ``%(kw:...)s``.
_INTERPOLATION = re.compile(r"%\(prop:[A-Za-z0-9_][A-Za-z0-9_.-]*(?::-[A-Za-z0-9_.~+-]*)?\)s")
_MAX_DECODE_ROUNDS = 4
_GIT_REF_FORBIDDEN = frozenset("~^:?*[\\")
_HG_REF_FORBIDDEN = frozenset(":'\"\\()!&|~^,")


def _bad_character(text: str, allowed: frozenset[str] | None = None) -> str | None:
    for char in text:
        if char.isspace() or not char.isprintable():
            return f"whitespace or control character {char!r}"
        if allowed is not None and char not in allowed and (char.isascii()
                                                            or not char.isalnum()):
            return f"character {char!r} not allowed in a URL"
    return None


def _decoded(text: str) -> str | None:
    """``text`` percent-decoded until nothing changes; None past the bound.

    Decoding comes *before* any splitting: git and hg decode ``file://``
    URLs (and a server may decode a path) so ``..%2F`` is a ``..`` segment
    followed by a ``/``. Several rounds cover a text encoded twice
    (``%252F``); one still changing after them is refused by the callers.
    """
    for _round in range(_MAX_DECODE_ROUNDS):
        plain = urllib.parse.unquote(text)
        if plain == text:
            return plain
        text = plain
    return None


def _dotdot_segment(path: str) -> bool:
    """A ``..`` segment once decoded (``%2e%2e``, ``..%2F``, ``%5C..``)."""
    plain = _decoded(path)
    return plain is None or ".." in re.split(r"[/\\]", plain)


def _check_scheme_url(tool: str, scheme: str, rest: str) -> str | None:
    if scheme not in SCHEMES[tool]:
        return f"{scheme}:// URLs are not accepted for {tool}"
    authority, slash, path = rest.partition("/")
    path = slash + path
    if scheme == "file":
        if authority:
            return "a file:// URL names no host (file:///PATH)"
        if not path.startswith("/"):
            return "a file:// URL needs an absolute path (file:///PATH)"
    else:
        if authority.startswith("-") or "@-" in authority:
            return "the user or host of a URL must not start with '-'"
        if not _AUTHORITY.fullmatch(authority):
            return f"invalid host part {authority!r}"
    if _dotdot_segment(path):
        return "'..' is not allowed in a repository path"
    return None


def url_problem(tool: str, url: str) -> str | None:
    """Why ``url`` is refused as a location for ``tool``, or None if accepted."""
    if tool not in SCHEMES:
        raise ValueError(f"unknown tool {tool!r}")
    if not url:
        return "empty URL"
    if len(url) > MAX_URL_LENGTH:
        return f"URL longer than {MAX_URL_LENGTH} characters"
    if url.startswith("-"):
        return "a URL must not start with '-' (it would be read as an option)"
    interpolated = tool == "archive" and "%(" in url
    text = _INTERPOLATION.sub("x", url) if interpolated else url
    bad = _bad_character(text, _URL_CHARS)
    if bad:
        return bad
    if "::" in url:  # in the text as written: an interpolation is no excuse
        return "'::' is not allowed (git runs a command for TRANSPORT::ADDRESS URLs)"
    if interpolated and "%(" in text:
        return ("only %(prop:NAME)s or %(prop:NAME:-DEFAULT)s interpolations are allowed "
                "(no secret, worker or other keys: the URL is fetched from the worker)")
    if interpolated and url.startswith("%("):
        return None  # the form is known at run time only: fetch_archive.py checks it
    if tool == "hg" and "#" in text:
        return "no '#fragment' in a Mercurial URL (give the branch apart)"
    match = _SCHEME_URL.fullmatch(text)
    if match:
        return _check_scheme_url(tool, match["scheme"].lower(), match["rest"])
    if text.startswith("/"):
        return "'..' is not allowed in a repository path" if _dotdot_segment(text) else None
    if tool == "git" and _SCP_LIKE.fullmatch(text):
        return "'..' is not allowed in a repository path" \
            if _dotdot_segment(text.partition(":")[2]) else None
    if tool == "bzr" and _LAUNCHPAD.fullmatch(text):
        return None if not _dotdot_segment(text[3:]) else \
            "'..' is not allowed in a repository path"
    head = text.split("/", 1)[0]
    if "@-" in head:
        return "the user or host of a URL must not start with '-'"
    if tool == "git" and ":" in head:
        return "invalid USER@HOST:PATH location (none of them may start with '-')"
    if ":" in head:
        return f"{head.split(':', 1)[0]}: URLs are not accepted for {tool}"
    return "not a URL form this tool accepts (relative paths are not)"


def ref_problem(tool: str, ref: str) -> str | None:
    """Why ``ref`` is refused as a branch, tag or revision of ``tool``."""
    if tool not in REF_FORMS:
        raise ValueError(f"unknown tool {tool!r}")
    if not ref:
        return "empty name"
    if len(ref) > MAX_REF_LENGTH:
        return f"name longer than {MAX_REF_LENGTH} characters"
    if ref.startswith("-"):
        return "a name must not start with '-' (it would be read as an option)"
    bad = _bad_character(ref)
    if bad:
        return bad
    if ".." in ref:
        return "'..' is not allowed in a name"
    if tool == "git":
        return _git_ref_problem(ref)
    if tool == "hg":
        forbidden = sorted(set(ref) & _HG_REF_FORBIDDEN)
        if forbidden:
            return f"character {forbidden[0]!r} is not allowed in a Mercurial name"
    return None


def _git_ref_problem(ref: str) -> str | None:
    """The rules of ``git check-ref-format --branch`` that can bite us."""
    forbidden = sorted(set(ref) & _GIT_REF_FORBIDDEN)
    if forbidden:
        return f"character {forbidden[0]!r} is not allowed in a git name"
    if "@{" in ref or ref == "@":
        return "'@{' and '@' alone are not allowed in a git name"
    if ref.startswith("/") or ref.endswith("/") or "//" in ref:
        return "a git name must not start or end with '/', nor contain '//'"
    if ref.endswith("."):
        return "a git name must not end with '.'"
    for part in ref.split("/"):
        if part.startswith("."):
            return "no part of a git name may start with '.'"
        if part.endswith(".lock"):
            return "no part of a git name may end with '.lock'"
    return None


def host_of(url: str) -> str | None:
    """The host name (lower case) of a network URL or scp-like location.

    None for a local location (``file://``, absolute path) or an unknown
    form. ``lp:`` names give ``launchpad.net``. Users and ports are left
    out: ``ssh://git@h/x``, ``git@h:x`` and ``https://h:8443/x`` are all on
    host ``h``.
    """
    match = _SCHEME_URL.fullmatch(url)
    if match:
        if match["scheme"].lower() == "file":
            return None
        found = _AUTHORITY.fullmatch(match["rest"].partition("/")[0])
        return found["host"].lower() if found else None
    if url.startswith("/"):
        return None
    if url.startswith("lp:"):
        return "launchpad.net"
    found = _SCP_LIKE.fullmatch(url)
    return found["host"].lower() if found else None


def local_path_of(url: str) -> str | None:
    """The path of a local location: ``file:///p`` and ``/p`` give ``/p``."""
    if url.startswith("/"):
        return url
    match = _SCHEME_URL.fullmatch(url)
    if match and match["scheme"].lower() == "file":
        authority, slash, path = match["rest"].partition("/")
        if not authority:
            return urllib.parse.unquote(slash + path)
    return None


def _normal_path(path: str) -> str:
    """``path`` without empty and ``.`` segments (``a//./b`` is ``a/b``);
    the leading and trailing ``/`` are kept: they tell a folder apart."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    head = "/" if path.startswith("/") else ""
    tail = "/" if parts and path.endswith("/") else ""
    return head + "/".join(parts) + tail


def _place(location: str) -> tuple[str, str] | None:
    """(namespace, normalised path) of a location, for prefix comparisons.

    The namespace says where paths are looked up: ``local`` for ``file://``
    URLs and absolute paths (compared decoded, as git and hg read them),
    ``SCHEME://AUTHORITY`` (host in lower case) for network URLs,
    ``[USER@]HOST:`` for scp-like locations and bare ``[USER@]HOST``
    prefixes, ``lp:`` for Launchpad. A ``:`` separates a namespace from its
    path only in the scp-like form: in an https path it is a character.
    Network paths are compared as written: ``acme%2Fx`` is not ``acme/x``.
    """
    local = local_path_of(location)
    if local is not None:
        return "local", _normal_path(local)
    match = _SCHEME_URL.fullmatch(location)
    if match:
        authority, slash, path = match["rest"].partition("/")
        found = _AUTHORITY.fullmatch(authority)
        if found is None:
            return None
        start, end = found.span("host")
        authority = authority[:start] + authority[start:end].lower() + authority[end:]
        return f"{match['scheme'].lower()}://{authority}", _normal_path(slash + path)
    if location.startswith("lp:"):
        return "lp:", _normal_path(location[3:])
    found = _SCP_LIKE.fullmatch(location) or _BARE_HOST.fullmatch(location)
    if found:
        user = f"{found['user']}@" if found["user"] else ""
        return f"{user}{found['host'].lower()}:", _normal_path(found["path"] or "")
    return None


def is_under(url: str, prefix: str) -> bool:
    """Whether ``url`` is ``prefix`` or inside it, at a path boundary.

    Both are split into a namespace (scheme and authority, scp-like host,
    or the local file system) and a path, normalised (``//`` and ``.``
    segments dropped; ``file://`` paths decoded): the namespaces must be
    equal and the path of ``url`` must be the prefix's path or continue it
    after a ``/``. So ``https://h/acme`` covers ``https://h/acme/x.git``
    but not ``https://h/acme-evil/x.git``, ``https://h/acme:evil/x.git``
    nor ``https://h/acme@evil.org/``; ``git@h`` and ``git@h:`` cover every
    ``git@h:PATH``; ``file:///srv/git/`` covers ``/srv/git/x``. A ``..``
    segment in either, also percent-encoded (``..%2F``), is never under
    anything: it could climb out once the tool decodes it.
    """
    if not prefix or _dotdot_segment(url) or _dotdot_segment(prefix):
        return False
    inside, outside = _place(url), _place(prefix)
    if inside is None or outside is None or inside[0] != outside[0]:
        return False
    path, base = inside[1], outside[1]
    if base in ("", "/") or path == base:
        return True
    return path.startswith(base) and (base.endswith("/") or path[len(base)] == "/")


def prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` cannot be an allowed repository prefix, or None.

    An admin's prefix (``auto_watch_allowed``) is held to the rules of the
    URLs it admits: a ``..`` segment (also percent-encoded) or a form
    :func:`is_under` cannot place would silently admit nothing, or more
    than meant.
    """
    if not prefix:
        return "empty prefix"
    bad = _bad_character(prefix, _URL_CHARS)
    if bad:
        return bad
    if _dotdot_segment(prefix):
        return "'..' is not allowed in a prefix (also percent-encoded, e.g. '..%2F')"
    if _place(prefix) is None:
        return "not a form of repository location"
    return None
