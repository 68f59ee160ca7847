"""Reading a source file: the shape check, the scan (pass one) and the incidents (pass two).

The file is read twice and never held whole: the scan counts each incident's rows, checks
every row and gathers the priority pairs before anything is written; the second pass hands
out each incident's rows as soon as all of them have been seen (at once when the file is
grouped by incident, as exports are), so memory stays bounded by the incidents in flight.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import IO

from tenancy.errors import InvalidInput

# A source row may carry long text; the csv module's default cap (128 KiB) is an error here.
csv.field_size_limit(16 * 1024 * 1024)


class FileRefused(InvalidInput):
    """The file as a whole cannot be imported; nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass(frozen=True)
class Skip:
    line: int
    number: str
    reason: str

    def as_dict(self) -> dict:
        return {"line": self.line, "number": self.number, "reason": self.reason}


@dataclass
class Scan:
    rows_total: int = 0
    rows_per_number: dict[str, int] = field(default_factory=dict)
    skipped: list[Skip] = field(default_factory=list)
    # (impact, urgency, Priority) -> [rows, first line]
    pairs: dict[tuple, list[int]] = field(default_factory=dict)

    @property
    def incidents_total(self) -> int:
        return len(self.rows_per_number)


@contextmanager
def text_stream(binary: IO[bytes]) -> Iterator[IO[str]]:
    """UTF-8 text (a byte-order mark is dropped); a file that is not text is refused."""
    stream = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        yield stream
    except UnicodeDecodeError as exc:
        raise FileRefused(f"The file is not UTF-8 text (byte {exc.start} of a line).") from None
    finally:
        stream.detach()


def check_header(fmt: ModuleType, binary: IO[bytes]) -> None:
    """Refuse a file of another shape from its first line alone (the upload page does this)."""
    head = binary.read(64 * 1024)
    text = codecs.getincrementaldecoder("utf-8-sig")(errors="replace").decode(head)
    first = next(csv.reader(io.StringIO(text)), None)
    _check_columns(fmt, first)


def _check_columns(fmt: ModuleType, header: list[str] | None) -> dict[str, int]:
    if not header or not any(name.strip() for name in header):
        raise FileRefused("The file is empty: it has no header line.")
    missing = fmt.missing_columns(header)
    if missing:
        shown = ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")
        raise FileRefused(
            f"This is not a {fmt.LABEL}: {len(missing)} of the columns it needs are missing "
            f"({shown}). Nothing was imported."
        )
    return {name.strip().lower(): i for i, name in enumerate(header)}


def parsed_rows(fmt: ModuleType, stream: IO[str]) -> Iterator:
    """Every data row as a SourceRow, or a Skip saying why not (with its first line)."""
    reader = csv.reader(stream)
    try:
        index = _check_columns(fmt, next(reader, None))
    except csv.Error as exc:
        raise FileRefused(f"The header line is not CSV: {exc}.") from None
    width = len(index)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Skip(start, "", f"the row is not valid CSV ({exc})")
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # a blank line is no row
        if len(row) != width:
            yield Skip(start, row[0].strip(), f"expected {width} fields, found {len(row)}")
            continue
        record = {name: row[i] for name, i in index.items()}
        try:
            yield fmt.parse_row(start, record)
        except fmt.RowError as exc:
            number = record["number"].strip()
            yield Skip(start, "" if number == fmt.EMPTY else number, str(exc))


def scan(fmt: ModuleType, stream: IO[str]) -> Scan:
    result = Scan()
    counts: Counter[str] = Counter()
    for item in parsed_rows(fmt, stream):
        result.rows_total += 1
        if isinstance(item, Skip):
            result.skipped.append(item)
            continue
        counts[item.number] += 1
        pair = result.pairs.setdefault((item.impact, item.urgency, item.priority), [0, item.line])
        pair[0] += 1
    result.rows_per_number = dict(counts)
    return result


def incidents(fmt: ModuleType, stream: IO[str], rows_per_number: dict[str, int]) -> Iterator:
    """Each incident's rows (in history order: sys_mod_count, then time) once all are read."""
    pending: dict[str, list] = {}
    for item in parsed_rows(fmt, stream):
        if isinstance(item, Skip):
            continue
        rows = pending.setdefault(item.number, [])
        rows.append(item)
        if len(rows) == rows_per_number.get(item.number):
            del pending[item.number]
            rows.sort(key=lambda r: (r.position, r.line))
            yield rows
    if pending:
        raise FileRefused("The file changed while it was being imported; import it again.")
