"""The Fleet page: what every worker offers, and why a buildout has no worker.

A page inside Buildbot's web UI (``#/fleet``), made with
``buildbot-wsgi-dashboards``. Two modules with one job each:

- ``model``: a pure page model built from the load's plan, worker specs,
  buildouts and warnings (the same values ``anybox-buildbot plan``
  prints), plus the builder ``description`` text. No Flask, no Buildbot.
- ``app``: the Flask app rendering that model (Jinja, autoescaped), with
  the connected state of each worker read live from the master at request
  time, and the entry it adds to ``c['www']['plugins']``.
"""
