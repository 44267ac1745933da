"""Browser tests of the staff console: Playwright for Python driving Debian's Chromium (/usr/bin/chromium,
installed by scripts/install-browser.sh — Playwright never downloads a browser here).

One browser per test session; each test gets a fresh app on the migrated database, served from a thread on a free
loopback port, and opens one browser context per member of staff. Screenshots of the main pages are written to
``test-artifacts/screenshots/`` (gitignored; see README).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1366, "height": 768}  # the office screen the console is built for
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The server's threads use connections of their own, so a browser test's writes must really be committed."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.real_commits)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is missing and could not be installed "
                    "(run scripts/install-browser.sh as root on Debian)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_app(make_app, tmp_path):
    """The app with demo staff and institutions, uploads in a temporary folder."""
    app = make_app(UPLOAD_DIR=str(tmp_path / "uploads"), STATEMENT_DIR=str(tmp_path / "statements"))
    with app.app_context():
        from backend import demo

        demo.seed_parties()
        yield app


@pytest.fixture
def server(live_app) -> Iterator[str]:
    """The app served on 127.0.0.1 at a free port, from a thread; its base URL."""
    http = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def staff_page(browser, server) -> Iterator[Callable[..., object]]:
    """``staff_page("reviewer1")`` — a new browser context signed in as that member of staff (``None``: anonymous)."""
    contexts = []

    def open_page(username: str | None = None, password: str | None = None):
        context = browser.new_context(viewport=VIEWPORT, base_url=server, locale="zh-CN")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        if username is not None:
            sign_in(page, username, password or f"demo-{username}")
        return page

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, username: str, password: str) -> None:
    page.goto("/staff/sign-in")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/staff/")


@pytest.fixture
def screenshot() -> Callable[[object, str], Path]:
    def save(page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return save
