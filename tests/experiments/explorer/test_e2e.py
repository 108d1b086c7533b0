"""End to end: the explorer served on localhost, driven by a real headless Chromium with no network.

Uses Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run`` installs it) through Playwright, not a
browser downloaded by ``playwright install``. Every request that does not go to the local server is aborted
and recorded, so the test also proves the page needs no CDN. Prints the measured Play speed (a figure, not an
assertion). Saves results/explorer/e2e*.png.
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
    pytest.mark.slow,  # ~1 min: starts a server and a browser, plays a run; .ci/run runs it after `make test`
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


def test_page_plays_to_the_end_offline_with_named_tabs_compare_and_journeys(server, tmp_path):
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
            viewport={"width": 1366, "height": 768})
        try:
            context.route("**/*", local_only)
            page = context.new_page()
            page.goto(server)
            play = page.get_by_role("button", name="▶ Play")
            play.wait_for(timeout=60_000)
            for name in ("Model", "Compare", "Journeys", "Info"):
                page.get_by_role("tab", name=name).wait_for(timeout=30_000)
            counter = page.locator(".placesim-counter")
            assert counter.inner_text().startswith("Week 0 of 572")
            page.locator("img").first.wait_for(timeout=30_000)
            assert page.locator("img").count() >= 4  # plots, neighbourhoods, network, behaviours

            # A second browser session gets its own model.
            page.get_by_role("button", name="Step").click()
            page.get_by_text("Week 1 of 572").wait_for(timeout=30_000)
            other = context.new_page()
            other.goto(server)
            other.locator(".placesim-counter").wait_for(timeout=60_000)
            assert other.locator(".placesim-counter").inner_text().startswith("Week 0 of 572")
            other.close()

            # Play at the default speed to the end: the counter ends at the last week and says Finished.
            started = time.monotonic()
            play.click()
            page.get_by_text("Finished", exact=True).wait_for(timeout=300_000)
            seconds = time.monotonic() - started
            assert counter.inner_text() == "Week 572 of 572 · end of year 10 of 10"
            print(f"\nPlay speed in the browser: 571 weeks in {seconds:.1f} s = {571 / seconds:.1f} simulated "
                  "weeks a second (5,000 residents, default speed setting)")
            page.wait_for_timeout(500)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))

            # Compare: keep this run, run a second to the end, and see both on the same axes.
            page.get_by_role("tab", name="Compare").click()
            page.get_by_role("button", name="Keep this run for comparison").click()
            page.get_by_text("Kept so far: 1").wait_for(timeout=30_000)
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("Week 0 of 572").wait_for(timeout=30_000)
            page.get_by_role("button", name="Run to the end").click()
            page.get_by_text("Finished", exact=True).wait_for(timeout=120_000)
            rows = page.locator("table tr")
            rows.nth(2).wait_for(timeout=30_000)
            assert rows.count() == 3  # header, the kept run, the run now
            page.screenshot(path=str(SCREENSHOT.with_name("e2e_compare.png")), full_page=True)

            # Journeys: a followed resident's timeline.
            page.get_by_role("tab", name="Journeys").click()
            page.get_by_text("Resident ").first.wait_for(timeout=30_000)
            page.locator("img").first.wait_for(timeout=30_000)
            page.get_by_text("The ", exact=False).last.wait_for(timeout=30_000)
            page.screenshot(path=str(SCREENSHOT.with_name("e2e_journeys.png")), full_page=True)

            # Info: rendered offline; the link to docs/ODD.md opens the model description on the same page.
            page.get_by_role("tab", name="Info").click()
            page.get_by_text("THINGS TO NOTICE").first.wait_for(timeout=30_000)
            page.locator("a[href='#odd']").first.click()
            assert page.locator("details#odd").get_attribute("open") is not None
            page.get_by_text("ODD description of the place model").wait_for(timeout=10_000)
            page.screenshot(path=str(SCREENSHOT.with_name("e2e_info.png")))
        finally:
            context.close()
    assert not outside, f"the page asked for the network: {outside[:5]}"
