"""The demo data ``make run`` loads, and what ``make run`` does before it starts anything.

Modules and their public names:
- ``catalog``: the demo's domains, problems, flows and revisions, and how engineers solve them.
- ``loader``: ``generate_flows``, ``generate_sessions``, ``run_demo`` (through the real import).
- ``bootstrap``: ``prepare`` (schema, demo data and a demo admin on first run), ``lost_password_hint``.
- ``reviews``: a handful of real review decisions by the demo admin (``record_demo_decisions``), so
  that Activity has something to show after the first run.
Depends on: ``core.sessions``, ``core.accounts``, ``core.analysis``, ``core.proposals``, ``core.db``, ``core.settings``.
"""
