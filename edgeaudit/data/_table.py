"""Delimited text tables (CSV/TSV) with a header, read with the csv module and line numbers kept.

The csv module (not pandas) is used on purpose: every cell stays a string, so words such as
``null``, ``NA`` or ``nan`` are never turned into missing values behind the reader's back.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass

from edgeaudit.data._textfile import existing_file, read_text
from edgeaudit.errors import DataError

_DELIMITERS = ("\t", ",", ";")
_DELIMITER_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon"}


@dataclass
class Table:
    """Header plus rows of strings; ``lines[i]`` is the file line where row ``i`` starts."""

    source: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    delimiter: str

    def find(self, candidates: Sequence[str]) -> str | None:
        """The first header name matching one of ``candidates`` (case-insensitive), else None."""
        lowered = {name.strip().lower(): name for name in self.header}
        for candidate in candidates:
            if candidate.lower() in lowered:
                return lowered[candidate.lower()]
        return None

    def index(self, name: str, *, role: str) -> int:
        """Column index of ``name`` (case-insensitive); DataError listing the columns if absent."""
        found = self.find([name])
        if found is None:
            raise DataError(
                f"{self.source}:1: no {role} column {name!r}; the header has {', '.join(map(repr, self.header))}",
                hint=f"pass the right column name for the {role}",
            )
        return self.header.index(found)


def detect_delimiter(header_line: str, source: str) -> str:
    """Tab, comma or semicolon: whichever occurs most in the header line."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise DataError(
            f"{source}:1: cannot tell the delimiter: the header has no tab, comma or semicolon",
            hint="the file needs a header row with at least two columns, or pass the delimiter explicitly",
        )
    return best


def read_table(path: str | os.PathLike[str], *, delimiter: str | None = None, source: str | None = None) -> Table:
    """Read a delimited file whose first row is a header; ragged rows are an error naming their line."""
    if delimiter is not None and (len(delimiter) > 1 or delimiter in ('"', "\r", "\n")):
        raise DataError(f"delimiter {delimiter!r} cannot separate columns",
                        hint="use one character such as a tab, comma or semicolon (or leave it out to detect it)")
    file = existing_file(path)
    label = source or str(path)
    text = read_text(file, label)
    if not text.strip():
        raise DataError(f"{label}:1: the file is empty", hint="pass a table with a header row and data rows")
    delimiter = delimiter or detect_delimiter(text.split("\n", 1)[0], label)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):  # blank line
                start = reader.line_num + 1
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                _check_unique(header, label)
            elif len(row) != len(header):
                raise DataError(
                    f"{label}:{start}: row has {len(row)} fields, the header has {len(header)} "
                    f"({_DELIMITER_NAMES.get(delimiter, repr(delimiter))}-separated)",
                    hint="check for an unquoted delimiter or a missing value in that row",
                )
            else:
                rows.append(row)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise DataError(f"{label}:{reader.line_num}: {error}", hint="fix the quoting on that line") from None
    if header is None:
        raise DataError(f"{label}:1: no header row (every line is empty)", hint="add a header naming the columns")
    _drop_trailing_empty_columns(header, rows)
    return Table(source=label, header=header, rows=rows, lines=lines, delimiter=delimiter)


def _drop_trailing_empty_columns(header: list[str], rows: list[list[str]]) -> None:
    """A delimiter at the end of every line makes an unnamed, empty last column: not data, so removed."""
    while len(header) > 1 and not header[-1] and all(not row[-1].strip() for row in rows):
        header.pop()
        for row in rows:
            row.pop()


def _check_unique(header: list[str], label: str) -> None:
    """Columns are looked up by name (case-insensitive), so a repeated name would make one of them unreachable."""
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        key = name.lower()
        if key and key in seen:
            raise DataError(
                f"{label}:1: column {name!r} appears twice in the header (columns {seen[key]} and {position})",
                hint="rename one of them",
            )
        seen.setdefault(key, position)
