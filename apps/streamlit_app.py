"""Northstar app: the frame and router. Start with `streamlit run apps/streamlit_app.py` from the repo root.

Pages live in `app_pages/`, data access in `data.py`, KPI definitions in `catalog_view.py`, the app's settings in
`app_config.py` (`catalog/apps.yaml`). The frame gives every page its title and the publication status: when the data
shown was built and, when the latest publication attempt was blocked, which checks failed; then the governance status
of the app settings (item `apps:config`): a banner unless they are approved as they are, and no page at all when no
approved settings can be used.
"""

import sys
from pathlib import Path

# `streamlit run` puts only this file's folder on sys.path; the pages import the `apps` package from the repo root,
# the same way the tests do, so both share one set of modules (and caches).
_REPO_ROOT = str(Path(__file__).resolve().parent.parent)
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import streamlit as st

from apps import components, data
from apps.app_config import app_config_in_use

st.set_page_config(page_title="Northstar KPIs", page_icon=":material/factory:", layout="wide")

page = st.navigation(
    [
        st.Page("app_pages/scorecard.py", title="Cross-plant scorecard", icon=":material/leaderboard:", default=True),
        st.Page("app_pages/plant_drilldown.py", title="Plant drilldown", icon=":material/precision_manufacturing:"),
    ]
)

published = data.warehouse_path()
components.page_styles()
st.title(page.title)
components.publication_status(data.publication(published))
settings = app_config_in_use()
components.app_settings_status(settings)
if settings.config is None:
    st.stop()
problem = data.warehouse_problem(published)
if problem:
    st.warning(problem, icon=":material/database:")
    st.stop()

page.run()
