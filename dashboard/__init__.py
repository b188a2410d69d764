"""The Streamlit dashboard: `streamlit run dashboard/app.py`, or `python -m launcher` (make run) for everything."""
