"""CSV exports: what each export holds, by name, for the command line and the download buttons.

Modules and their public names:
- ``catalog``: ``EXPORTS``, every export by name, with ``write_export`` and ``export_bytes``.
- ``gaps``: the gap report flattened to one row per gap.
Every cell goes through ``core.csv_safe`` (RFC 4180, spreadsheet formulas neutralised).
Depends on: ``core.gaps``, ``core.metrics``, ``core.impact``, ``core.proposals``, ``core.csv_safe``.
"""
