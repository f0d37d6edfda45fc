"""Real browser test: ``newsdesk serve`` on the demo data, driven by headless Debian Chromium via playwright.

Loads Today, runs a search and a question through the forms, checks what a
reader sees, and saves screenshots to ``test-artifacts/`` (gitignored).
Never downloads a browser: it uses ``/usr/bin/chromium`` or skips.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from serve_helpers import demo_home

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) "
                              "to run the browser test"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = demo_home(tmp_path_factory.mktemp("browser"))
    port = _free_port()
    env = {**os.environ, "NEWSDESK_TOKEN": ""}
    proc = subprocess.Popen([sys.executable, "-m", "newsdesk", "--home", str(home.root), "serve",
                             "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/login", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            proc.kill()
            raise AssertionError("server did not start: " + (proc.stdout.read().decode() if proc.stdout else ""))
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def test_today_search_ask_in_a_real_browser(server: str, browser: object) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1180, "height": 900})  # type: ignore[attr-defined]
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    # Today: date heading, sections with emoji, the failed feed, linked sources, weather
    page.goto(server + "/")
    assert page.locator("h1").first.inner_text() == "Saturday 21 November 2026"
    failure = page.locator(".feed-error").first
    assert failure.is_visible()
    assert failure.inner_text().startswith("⚠ Feed unavailable: Vault Threat Notes —")
    assert page.locator("h2", has_text="International News").first.is_visible()
    src = page.locator("a[href='https://globaldesk.example.org/world/2026/11/21/eu-rail-strike']").first
    assert src.is_visible() and src.inner_text() == "Global Desk — World"
    assert page.locator(".weather li").first.inner_text().startswith("Now -3.4")
    # the hostile title is visible as text and did not run
    assert page.get_by_text('Council vote <script>alert("xss-title")</script> passes').first.is_visible()
    assert page.evaluate("() => document.querySelectorAll('script:not([src])').length") == 0
    page.screenshot(path=str(ARTIFACTS / "today.png"), full_page=False)
    page.screenshot(path=str(ARTIFACTS / "today-full.png"), full_page=True)

    # a story page
    page.locator(".story h3 a").first.click()
    page.wait_for_load_state()
    assert "/stories/" in page.url and page.locator("h2", has_text="source").first.is_visible()

    # Search through the form
    page.locator("nav a", has_text="Search").click()
    page.fill("input[name=q]", "rail freight strike")
    page.locator("form.query button").click()
    page.wait_for_url("**/search?q=rail+freight+strike*")
    first = page.locator(".hit h3").first
    assert "rail" in first.inner_text().lower()
    assert "result" in page.locator(".results-count").inner_text()

    # Ask through the form: a cited answer
    page.locator("nav a", has_text="Ask").click()
    page.fill("input[name=q]", "How many containers were stranded by the rail freight strike?")
    page.locator("form.query button").click()
    page.wait_for_selector(".answer")
    answer = page.locator(".answer-text").inner_text()
    assert "1,900 containers" in answer and "[1]" in answer
    cite = page.locator(".citations li a").first
    assert cite.is_visible() and cite.get_attribute("href", timeout=1000).startswith("https://")
    page.screenshot(path=str(ARTIFACTS / "ask.png"), full_page=True)

    # ... and a visible abstention with the closest sources
    page.fill("input[name=q]", "What colour is the royal giraffe of Neptune's moon Triton?")
    page.locator("form.query button").click()
    page.wait_for_selector(".answer.abstained")
    assert page.locator(".answer.abstained h2").inner_text().endswith("Not enough evidence to answer")
    assert page.locator(".citations li").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "ask-abstained.png"), full_page=True)

    # phone width: still readable, no horizontal scroll
    phone = browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    phone.goto(server + "/")
    assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=str(ARTIFACTS / "today-phone.png"))
    phone.goto(server + "/feeds")
    assert phone.locator("tr.failing").first.is_visible()
    phone.screenshot(path=str(ARTIFACTS / "feeds-phone.png"), full_page=True)

    assert problems == [], problems  # no CSP violations or script errors
    assert (ARTIFACTS / "today.png").stat().st_size > 10_000 and (ARTIFACTS / "ask.png").stat().st_size > 10_000
