"""Headless Chromium as the tests and benchmarks drive it (Debian's build, under Playwright)."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def sign_in_tab(tab, base: str, username: str, password: str) -> None:
    """Sign a browser tab in through the login form, as a person would."""
    tab.goto(base + "/login")
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", password)
    tab.click("button[type=submit]")
    tab.wait_for_url(base + "/")
