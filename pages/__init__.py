"""Dashboard pages: one callable per page, registered with `st.navigation` in dashboard/app.py."""
