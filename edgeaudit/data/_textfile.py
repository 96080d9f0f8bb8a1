"""Opening dataset files: existence checks, UTF-8 with exact error positions, BOM and CRLF.

Decoding is done here, by line, so that a bad byte is reported as ``file:line`` with its byte offset
instead of surfacing as a ``UnicodeDecodeError`` traceback from deep inside a parser.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from edgeaudit.errors import DataError

_BOM = "\ufeff"
MAX_LINE_BYTES = 1 << 20  # one CoNLL-U line is one word: a megabyte is far beyond any real line
_REENCODE_HINT = "re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in > out`)"


def existing_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, or a DataError saying why it cannot be read."""
    file = Path(path)
    if not file.exists():
        raise DataError(f"{file}: no such file", hint="check the path (relative paths start at the working directory)")
    if file.is_dir():
        raise DataError(f"{file}: is a directory, expected a file", hint="pass the data file itself")
    return file


_SPREADSHEET_MAGIC = {b"PK\x03\x04": "a zip archive (an .xlsx or .ods spreadsheet?)",
                      b"\xd0\xcf\x11\xe0": "an OLE2 document (an .xls spreadsheet?)"}


def refuse_spreadsheet(head: bytes, source: str) -> None:
    """A spreadsheet saved as-is is not text: say so, and how to export it, instead of blaming its encoding."""
    for magic, what in _SPREADSHEET_MAGIC.items():
        if head.startswith(magic):
            raise DataError(f"{source}: is {what}, not a text table",
                            hint="export the sheet as CSV UTF-8 (File > Save As > CSV UTF-8) and pass that file")


def _decode_line(raw: bytes, source: str, line_number: int, line_offset: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        offset = line_offset + error.start
        raise DataError(
            f"{source}:{line_number}: byte 0x{raw[error.start]:02x} at byte offset {offset} is not valid UTF-8",
            hint=_REENCODE_HINT,
        ) from None


def open_binary(path: Path, source: str | None = None) -> BinaryIO:
    """``path`` opened for reading bytes; a ``.gz`` file is decompressed on the fly (treebanks ship compressed)."""
    if path.suffix != ".gz":
        return path.open("rb")
    handle = gzip.open(path, "rb")
    try:
        handle.peek(1)  # a damaged or mislabelled file fails here, as one line, not mid-parse
    except (OSError, EOFError) as error:
        handle.close()
        raise DataError(f"{source or path}: not a readable gzip file ({error})",
                        hint="decompress it yourself to check it, or pass the uncompressed file") from None
    return handle  # type: ignore[return-value]


def iter_lines(path: Path, source: str | None = None) -> Iterator[tuple[int, str]]:
    """``(line_number, text)`` for each line, 1-based, without the line ending or a leading BOM.

    Streams: memory does not grow with the file. Non-UTF-8 bytes raise DataError at that line.
    """
    label = source or str(path)
    offset, number = 0, 0
    with open_binary(path, label) as handle:
        lines = enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), start=1)
        while True:
            try:
                number, raw = next(lines)
            except StopIteration:
                return
            except (OSError, EOFError) as error:  # e.g. a truncated .gz file, found mid-stream
                raise DataError(f"{label}:{number + 1}: reading stopped: {error}",
                                hint="the file is damaged or truncated: copy it again") from None
            if len(raw) > MAX_LINE_BYTES:  # a line without end would otherwise be read whole into memory
                raise DataError(f"{label}:{number}: line is longer than {MAX_LINE_BYTES} bytes",
                                hint="this is not a dataset file, or a line break is missing; fix the file")
            if number == 1:
                refuse_spreadsheet(raw, label)
            text = _decode_line(raw, label, number, offset)
            offset += len(raw)
            if number == 1 and text.startswith(_BOM):
                text = text[1:]
            yield number, text.rstrip("\r\n")


def read_text(path: Path, source: str | None = None) -> str:
    """The whole file as text (BOM removed, line endings kept for the csv module)."""
    label = source or str(path)
    data = path.read_bytes()
    refuse_spreadsheet(data, label)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DataError(
            f"{label}:{line}: byte 0x{data[error.start]:02x} at byte offset {error.start} is not valid UTF-8",
            hint=_REENCODE_HINT,
        ) from None
    return text[1:] if text.startswith(_BOM) else text
