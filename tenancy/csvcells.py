"""Cells of a CSV file people open in a spreadsheet: the one rule every export of the desk
follows (the dashboard's, the audit log's)."""

from __future__ import annotations

# A cell a spreadsheet would read as a formula is written as text (OWASP "CSV injection"): a
# leading quote makes Excel, LibreOffice and Google Sheets show it as typed. Tab and carriage
# return start a formula after the spreadsheet strips them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """The value as a cell: text that would start a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
