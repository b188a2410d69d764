"""FlowPilot Insights core: data model, import, analysis and read models.

Nothing in this package imports streamlit or apscheduler; the dashboard, pages and scheduler
are entry points that call into it.
"""
