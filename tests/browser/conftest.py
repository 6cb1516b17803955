"""Playwright driving Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import service_missing

CHROMIUM = os.environ.get("LIVE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]


# Package scope: sync_playwright keeps an event loop on the main thread while it
# runs; it must be gone before the async tests of other packages start.
@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        service_missing("Chromium", f"{CHROMIUM} not found (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        service_missing("Playwright", repr(exc))
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def browser(chromium: Any) -> Iterator[Any]:
    """The browser, with every page a test opened closed after it: pages left open
    keep rendering and reconnecting to stopped servers, and slow the later tests."""
    yield chromium
    for context in list(chromium.contexts):
        context.close()
