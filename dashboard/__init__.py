"""The Streamlit dashboard: `streamlit run dashboard/app.py`, or `python -m dashboard.launch` for everything."""
