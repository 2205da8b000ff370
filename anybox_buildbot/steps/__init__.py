"""Build-step classes and renderables, one module per family.

``common`` (what the factory and the step sets share: where a buildout
lives on the worker, its caches lock, shipping our scripts), ``source``
(checkouts and downloads), ``capabilities`` (the first step of every
build), ``transfer`` (uploads and downloads that keep to their place),
``testing`` (test runs and JUnit summaries), ``lint`` (counted warnings),
``publish`` (files sent to the master), ``watchreport`` (the auto-watch
report, into the database every master reads), ``database`` and ``odoo``. The step
sets (:mod:`..subfactories`) only compose these.
"""
