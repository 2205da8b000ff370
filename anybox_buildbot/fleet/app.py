"""The Fleet page's Flask app and its place in ``c['www']``.

``buildbot-wsgi-dashboards`` mounts the app under
``/plugins/wsgi_dashboards/fleet/`` and the UI shows its ``index.html`` at
``#/fleet``. The UI inserts the HTML into its own page, where no script
runs, so everything interactive is a plain link or GET form to the raw
page (query ``q`` filters by name, ``page`` picks a page of builders).

The model is made once per configuration load (a reconfig makes a new app,
which the plugin mounts in place of the old one); only the connected state
and the host each worker reported are read from the master per request.
Jinja's autoescape is on for every value: names, capability options and
worker-reported info are untrusted text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path

import jinja2
from flask import Flask, Response, request

from .model import FleetModel, parse_page, view

NAME = "fleet"
#: Up to this many builders on a page, their details are shown open.
OPEN_UP_TO = 5
CAPTION = "Fleet"
TEMPLATES = Path(__file__).parent / "templates"

#: worker name -> (connected, host reported); None when the master cannot say.
LiveState = Callable[[], tuple[dict[str, bool], dict[str, str]] | None]

_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                          undefined=jinja2.StrictUndefined, trim_blocks=True,
                          lstrip_blocks=True)


def _from_master(app: Flask) -> tuple[dict[str, bool], dict[str, str]] | None:
    """Connected state and reported host of every worker, asked of the running
    master (``buildbot_api`` is set by the plugin when it mounts the app)."""
    api = getattr(app, "buildbot_api", None)
    if api is None:
        return None
    try:
        workers = api.dataGet("workers")
    except Exception:   # the page still shows the plan; the state is "unknown"
        return None
    connected, hosts = {}, {}
    for item in workers or ():
        name = item.get("name")
        if not isinstance(name, str):
            continue
        connected[name] = bool(item.get("connected_to"))
        info = item.get("workerinfo") or {}
        host = info.get("host") if isinstance(info, Mapping) else None
        if isinstance(host, str):
            hosts[name] = host.strip()[:200]
    return connected, hosts


def render(model: FleetModel, live: tuple[dict[str, bool], dict[str, str]] | None,
           base: str, query: str = "", page: int = 1) -> str:
    """The page's HTML (``base``: the path the app is mounted at)."""
    connected, hosts = live if live is not None else (None, {})
    return _ENV.get_template("fleet.html").render(
        model=model, view=view(model, query, page), connected=connected, hosts=hosts,
        base=base, open_up_to=OPEN_UP_TO)


def make_app(model: FleetModel, live: LiveState | None = None) -> Flask:
    """The Flask app serving ``model``; ``live`` (tests) replaces the master."""
    app = Flask(__name__)

    @app.route("/index.html")
    def index() -> Response:
        state = live() if live is not None else _from_master(app)
        html = render(model, state, request.script_root,
                      request.args.get("q", ""), parse_page(request.args.get("page")))
        return Response(html, mimetype="text/html")

    return app


def install(www: MutableMapping, app: Flask) -> str:
    """Add the page to ``c['www']``; returns its name (``fleet``, or
    ``fleet-2``... when master.cfg made several configurators)."""
    plugins = www.setdefault("plugins", {})
    dashboards = plugins.setdefault("wsgi_dashboards", [])
    taken = {d.get("name") for d in dashboards if isinstance(d, Mapping)}
    name, n = NAME, 1
    while name in taken:
        n += 1
        name = f"{NAME}-{n}"
    dashboards.append({"name": name, "caption": CAPTION if n == 1 else f"{CAPTION} {n}",
                       "app": app, "order": 20, "icon": "server"})
    return name
