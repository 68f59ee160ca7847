"""A browser's User-Agent header in words ("Chrome on Linux"), for the list of a person's
sessions. Plain substring rules, not a full parser: the words only help a person recognise their
own devices, and nothing is decided on them. Order matters: Edge and Opera also say "Chrome",
Chrome also says "Safari", Android also says "Linux", iOS also says "Mac OS X"."""

from __future__ import annotations

BROWSERS: tuple[tuple[str, str], ...] = (
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("Opera", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Version/", "Safari"),  # Safari says "Version/17.1 ... Safari/605"; others do not
    ("curl/", "curl"),
)

SYSTEMS: tuple[tuple[str, str], ...] = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def _first(header: str, rules: tuple[tuple[str, str], ...]) -> str:
    return next((words for mark, words in rules if mark in header), "")


def device_in_words(user_agent: str) -> str:
    """ "Chrome on Linux", "Safari on iPhone", "Firefox", "Unknown browser"."""
    browser = _first(user_agent or "", BROWSERS)
    system = _first(user_agent or "", SYSTEMS)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"A browser on {system}"
    return "Unknown browser"
