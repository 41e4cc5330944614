"""Headless Chromium (Debian's package) driven by Playwright, for report and app tests."""

import os
import shutil
from contextlib import contextmanager

CHROMIUM = os.environ.get("COLLABSIM_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def require_chromium() -> str:
    """The browser's path; fails (never skips) when it is missing."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        raise AssertionError(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
            "(`.ci/install-browser` does it) or set COLLABSIM_CHROMIUM")
    return CHROMIUM


@contextmanager
def page(width: int = 1280, height: int = 900):
    """A fresh browser page; yields (page, requests seen)."""
    from playwright.sync_api import sync_playwright

    path = require_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=FLAGS, headless=True)
        try:
            ctx = browser.new_context(viewport={"width": width, "height": height})
            pg = ctx.new_page()
            requests: list[str] = []
            pg.on("request", lambda r: requests.append(r.url))
            yield pg, requests
        finally:
            browser.close()
