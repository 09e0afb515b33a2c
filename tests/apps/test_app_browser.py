"""The real app in a real browser: `streamlit run` against the fixture warehouse, driven by Debian's chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_fixtures import APP_ENTRYPOINT, BLOCKED_REASONS, DATA_AS_OF_TEXT, PLANT_NAMES, REPO_ROOT
from playwright.sync_api import expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 30
# Same hand-worked figures as test_app_pages.EXPECTED_OEE.
EXPECTED_OEE = {"DE-STR": "74.2%", "MX-MTY": "76.0%", "SG-SIN": "48.2%"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(server: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"streamlit did not answer on {url} within {SERVER_START_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture
def app_url(warehouse_root: Path, tmp_path: Path) -> Iterator[str]:
    """`streamlit run apps/streamlit_app.py` on a free loopback port; always terminated afterwards."""
    port = free_port()
    log = tmp_path / "streamlit.log"
    env = os.environ | {"NORTHSTAR_DATA_ROOT": str(warehouse_root), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    env.pop("NORTHSTAR_CATALOG_DIR", None)
    env.pop("NORTHSTAR_APPS_CONFIG", None)
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP_ENTRYPOINT),
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log.open("w") as log_file:
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(server, url, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def chromium() -> Path:
    """Debian's chromium; a missing browser fails the test (CI must run it), it is not a reason to skip."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (`make chromium`, or `apt-get install chromium`)."
        )
    return CHROMIUM


@pytest.mark.browser
def test_pages_in_a_real_browser_show_each_plants_oee_and_the_data_as_of(
    chromium: Path, app_url: str, tmp_path: Path
) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            # Tall enough for the whole page: Streamlit scrolls inside its own container, so a full-page
            # screenshot only captures the viewport.
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            page.goto(app_url)
            for plant_id, expected in EXPECTED_OEE.items():
                metric = page.locator(f".st-key-oee-{plant_id}")
                # contains: a low-confidence label also carries its warning icon (Monterrey's)
                expect(metric.get_by_test_id("stMetricLabel")).to_contain_text(PLANT_NAMES[plant_id], timeout=20_000)
                expect(metric.get_by_test_id("stMetricValue")).to_have_text(expected)
            expect(page.get_by_text(DATA_AS_OF_TEXT)).to_be_visible()
            blocked = page.get_by_test_id("stAlert").filter(has_text="Latest publication blocked")
            expect(blocked).to_contain_text(BLOCKED_REASONS[0]["expectation"])
            expect(page.locator(".vega-embed").first).to_be_visible()
            page.screenshot(path=tmp_path / "scorecard.png", full_page=True)

            page.goto(f"{app_url}/plant_drilldown")
            expect(page.get_by_text(DATA_AS_OF_TEXT)).to_be_visible(timeout=20_000)
            page.get_by_test_id("stSelectbox").first.click()
            page.get_by_role("option", name=PLANT_NAMES["DE-STR"]).click()
            expect(page.locator(".st-key-oee-DE-STR").get_by_test_id("stMetricValue")).to_have_text(
                EXPECTED_OEE["DE-STR"], timeout=20_000
            )
            expect(page.locator(".vega-embed").first).to_be_visible()
            expect(page.get_by_test_id("stDataFrame").locator("canvas").first).to_be_visible()
            page.screenshot(path=tmp_path / "plant_drilldown.png", full_page=True)
        finally:
            browser.close()
