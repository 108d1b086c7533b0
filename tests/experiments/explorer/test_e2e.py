"""End to end: the explorer served on localhost, driven by a real headless Chromium with no network.

Uses Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run`` installs it) through Playwright, not a
browser downloaded by ``playwright install``. Every request that does not go to the local server is aborted
and recorded, so the test also proves the page needs no CDN. Saves results/explorer/e2e.png.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from experiments.engine.store import results_root

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[3]
SCREENSHOT = results_root() / "explorer" / "e2e.png"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.slow,  # ~30 s: starts a server and a browser; .ci/run runs it after `make test`
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing "
                       "(apt-get install chromium; .ci/run installs it)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen([sys.executable, "-m", "experiments.explore", f"port={port}"], cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"explorer server did not start on {url}: {log_path.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_page_loads_offline_steps_and_plots(server, tmp_path):
    from playwright.sync_api import sync_playwright

    outside: list[str] = []

    def local_only(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 1100})
        try:
            context.route("**/*", local_only)
            page = context.new_page()
            page.goto(server)
            step = page.get_by_role("button", name="Step")
            step.wait_for(timeout=60_000)
            plot = page.locator("img").first
            plot.wait_for(timeout=30_000)
            before = plot.get_attribute("src")
            for week in range(1, 6):
                step.click()
                page.get_by_text(f"Time: {week}.0").wait_for(timeout=30_000)
            page.wait_for_function("src => document.querySelector('img').src !== src", arg=before,
                                   timeout=30_000)
            images = page.locator("img")
            assert images.count() >= 3  # plots, neighbourhoods, network
            box = images.first.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 150

            # A second browser session gets its own model: still at week 0 after the first took five steps.
            other = context.new_page()
            other.goto(server)
            other.get_by_role("button", name="Step").wait_for(timeout=60_000)
            other.get_by_text("Time: 0.0").wait_for(timeout=30_000)
            page.get_by_text("Time: 5.0").wait_for(timeout=5_000)
            other.close()

            page.get_by_role("tab", name="Page 1").click()
            page.get_by_text("THINGS TO NOTICE").first.wait_for(timeout=30_000)
            page.get_by_role("tab", name="Page 0").click()
            page.locator("img").first.wait_for(timeout=30_000)
            page.wait_for_timeout(500)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            context.close()
    assert not outside, f"the page asked for the network: {outside[:5]}"
