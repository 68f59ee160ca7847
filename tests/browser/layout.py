"""The layout check every page test makes: nothing wider than the screen."""

from __future__ import annotations

from playwright.sync_api import Page


def assert_fits(page: Page) -> None:
    """No sideways scrolling. Waits for the page to load first: measured while a click's
    navigation is still replacing the document, there is no document element to measure.
    Right after a click the old page may still count as loaded: wait for something of the new
    page (its heading) before calling this."""
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    screen = viewport["width"] if viewport else page.evaluate("window.innerWidth")
    assert width <= screen, f"{page.url} is {width}px wide on a {screen}px screen"
