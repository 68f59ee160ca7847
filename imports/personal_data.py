"""What imports hold about a person (tenancy/personal_data.py): the imports they started."""

from __future__ import annotations

from imports.models import ImportRun
from tenancy.personal_data import Held, declare


def register() -> None:
    declare(
        "imports",
        [Held(ImportRun, "created_by", "detach")],
        kept={"imports.ImportRun.source_name": "The imported file's name, not a person's."},
    )
