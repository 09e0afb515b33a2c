"""The app's pages; `apps/streamlit_app.py` registers them with `st.navigation`."""
