"""The file formats the importer reads. Each is a module with NAME, LABEL, SOURCE,
REQUIRED_COLUMNS, missing_columns(), parse_row() and BASE_MATRIX (see servicenow.py)."""

from __future__ import annotations

from types import ModuleType

from imports.formats import servicenow
from tenancy.errors import InvalidInput

FORMATS: dict[str, ModuleType] = {servicenow.NAME: servicenow}
FORMAT_CHOICES = [(name, module.LABEL) for name, module in FORMATS.items()]


def format_for(name: str) -> ModuleType:
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(FORMATS)
        raise InvalidInput(
            f"{name!r} is not a format the importer reads ({known}).", field="format"
        ) from None
