"""Northstar app: the frame and router. Start with `streamlit run apps/streamlit_app.py` from the repo root.

Pages live in `app_pages/`, data access in `data.py`, KPI definitions in `catalog_view.py`.
"""

import sys
from pathlib import Path

# `streamlit run` puts only this file's folder on sys.path; the pages import the `apps` package from the repo root,
# the same way the tests do, so both share one set of modules (and caches).
_REPO_ROOT = str(Path(__file__).resolve().parent.parent)
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import streamlit as st

from apps import data

st.set_page_config(page_title="Northstar OEE", page_icon=":material/factory:", layout="wide")

page = st.navigation(
    [
        st.Page("app_pages/scorecard.py", title="OEE scorecard", icon=":material/leaderboard:", default=True),
        st.Page("app_pages/plant_drilldown.py", title="Plant drilldown", icon=":material/precision_manufacturing:"),
    ]
)

problem = data.warehouse_problem(data.warehouse_path())
if problem:
    st.title(page.title)
    st.warning(problem, icon=":material/database:")
    st.stop()

page.run()
