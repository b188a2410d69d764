"""Sessions in and out: the interchange formats, the import, the store, and what the import keeps beside.

Modules and their public names:
- ``formats``: one session or flow record checked against the public contract in ``core/schemas``
  (``session_errors``, ``flow_errors``).
- ``importer``: ``import_sessions``, ``import_flows`` (JSON Lines, all or nothing, ``ImportRejected``
  naming the line and field).
- ``store``: the bulk writers (COPY on PostgreSQL, executemany on SQLite).
- ``versions``: the flow version each session counts on (``resolve_flow``, ``resolve_all``).
- ``day_counts``: the per-day step counts the gap report reads.
- ``detail``: sessions as the pages show them (``SessionDetail``, ``session_details``).
- ``data_version``: a fingerprint of an account's data, for cache keys.
- ``collector``, ``prefetch``: the import's memory and overlap helpers.
Depends on: ``core.flows``, ``core.metrics.sql``, ``core.models``, ``core.storable``.
"""
