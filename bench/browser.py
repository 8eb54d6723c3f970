"""Debian's chromium under Playwright, as the browser test and the dashboard benchmark drive it:
never a browser Playwright downloads (`playwright install` would fetch one at run time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARGUMENTS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def launch(driver: Any) -> Any:
    """`driver` is `playwright.sync_api.sync_playwright()`'s; the browser it starts."""
    return driver.chromium.launch(executable_path=str(CHROMIUM), args=list(ARGUMENTS))
