"""Numbers, days and search text as people type or send them, read without surprises.

`str.isdigit()` is also true of "²" and other characters `int()` refuses, `int()` refuses more
than 4,300 digits, and a day near either end of Python's calendar overflows when the day after
or a midnight elsewhere is taken: each of these was a 500 somewhere.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
DAY_RANGE = "Pick a day between 1 January 1970 and 31 December 2999."


def whole_number(text: object, max_digits: int = 18) -> int | None:
    """The number written in plain digits (0-9), at most `max_digits` of them; else None."""
    text = str(text)
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


class DayField(forms.DateField):
    """A calendar day for a filter or a period, within FIRST_DAY and LAST_DAY."""

    default_validators = [
        MinValueValidator(FIRST_DAY, message=DAY_RANGE),
        MaxValueValidator(LAST_DAY, message=DAY_RANGE),
    ]


def query_text(text: str) -> str:
    """Text from a query string for a search, without NUL characters, which PostgreSQL refuses
    in any string (forms refuse them; a bare parameter must drop them)."""
    return text.replace("\x00", "").strip()
