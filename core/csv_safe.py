"""Formula-safe CSV: UTF-8, RFC 4180, for the command line and the dashboard's download buttons.

A spreadsheet treats a cell starting with ``=``, ``+``, ``-``, ``@`` (and, in some, tab,
carriage return or NUL) as a formula, so an engineer's free text could run in a manager's
Excel. Every such *text* cell is prefixed with ``'``; numbers stay numbers (a negative change
is a number, not text, so it is written as it is).

Rows are written as they come: give an iterator and memory stays flat however many there are.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
# Excel reads a CSV without a byte-order mark in the local code page, garbling accents; with
# one it reads UTF-8. Off by default: RFC 4180 tools do not expect it.
BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    """One cell as it should be written: neutralised text, numbers untouched, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return value
    if isinstance(value, float):
        # NaN and infinity are not numbers a spreadsheet can read back.
        return value if math.isfinite(value) else ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if text.startswith(DANGEROUS_PREFIXES):
        return "'" + text
    return text


@dataclass(frozen=True)
class Table:
    """A header and a stream of rows (each a sequence matching the header)."""

    header: Sequence[str]
    rows: Iterable[Sequence[Any]]


def _start(out: TextIO, header: Sequence[str], bom: bool):
    """An RFC 4180 writer on ``out`` that has written the byte-order mark (if asked) and the header."""
    if bom:
        out.write(BOM)
    writer = csv.writer(out, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([safe_cell(h) for h in header])
    return writer


def write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]], bom: bool = False) -> int:
    """Write the header and every row to a text stream; returns the number of data rows.

    Open files with ``newline=""``: the writer emits RFC 4180's CRLF line ends itself.
    """
    writer = _start(out, header, bom)
    count = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        count += 1
    return count


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]], rows_per_chunk: int = 1000,
               bom: bool = False) -> Iterator[bytes]:
    """The CSV as UTF-8 byte chunks, for a streamed download; nothing is held but one chunk."""
    buffer = io.StringIO()
    writer = _start(buffer, header, bom)
    pending = 1
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending or buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], bom: bool = False) -> bytes:
    """The whole CSV as UTF-8 bytes, for a download button that wants one value."""
    return b"".join(csv_chunks(header, rows, bom=bom))
