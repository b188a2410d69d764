"""`python -m launcher` (what `make run` does): prepare the database, then run the dashboard and
the scheduler side by side until either stops. A process supervisor: it imports no Streamlit."""
