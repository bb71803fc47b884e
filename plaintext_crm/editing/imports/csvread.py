"""Read a CSV export as people's tools write it: any common encoding, a sniffed delimiter, rows with lines."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from plaintext_crm.errors import ToolError

DELIMITERS = (",", ";", "\t")
MAX_CSV_BYTES = 512 * 1024 * 1024  # an export larger than this is not read into memory
csv.field_size_limit(16 * 1024 * 1024)  # long notes and descriptions are real; the default 128 KiB is not enough


class ImportFailed(ToolError):
    """An export that cannot be read or imported as it is; nothing was written."""


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its first line in the file, and each header's cell."""

    line: int
    cells: Mapping[str, str]  # header as written (stripped) -> cell text


@dataclass(frozen=True, slots=True)
class Table:
    """A CSV file read into rows; `notices` say what a reader should know (cp1252, skipped empty rows)."""

    name: str  # as shown in messages
    headers: tuple[str, ...]
    rows: tuple[Row, ...]
    encoding: str
    delimiter: str
    notices: tuple[str, ...]


def header_key(header: str) -> str:
    """How headers are matched: case and surrounding or repeated spaces do not count."""
    return " ".join(header.strip().casefold().split())


def decode_export(data: bytes, name: str) -> tuple[str, str, list[str]]:
    """(text, encoding, notices): UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text") or
    without (NUL bytes give it away), else Windows-1252 with a notice."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", "strict"), "utf-8-sig", []
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError as exc:
            raise ImportFailed(f"{name}: starts like UTF-16 text but byte {exc.start} is not UTF-16; "
                               "save it again as CSV UTF-8; nothing was written") from None
    sample = data[:4096]
    if sample and sample.count(0) * 4 >= len(sample):  # UTF-16 without a BOM: every other byte is NUL
        encoding = "utf-16-le" if sample[1:2] == b"\0" else "utf-16-be"
        try:
            return data.decode(encoding), encoding, []
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        text = data.decode("cp1252", "replace")
        return text, "cp1252", [(f"{name}:{line}: not UTF-8; read as Windows-1252 (cp1252), as older Excel "
                                 "versions save it: check accented letters in the imported records")]


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: the one of `,` `;` tab that splits it into most cells."""
    first = next(iter(text.splitlines()), "")
    best, best_count = ",", 0
    for delimiter in DELIMITERS:
        count = len(next(csv.reader([first], delimiter=delimiter), []))
        if count > best_count:
            best, best_count = delimiter, count
    return best


def parse_table(text: str, name: str, encoding: str = "utf-8", notices: list[str] | None = None) -> Table:
    """The rows of a decoded export; empty rows are skipped, a row with more cells than headers refused."""
    notices = list(notices or [])
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        raw_headers = next(reader)
    except StopIteration:
        raise ImportFailed(f"{name}: the file is empty; nothing was written") from None
    except csv.Error as exc:
        raise ImportFailed(f"{name}:1: {exc}; nothing was written") from None
    headers = [header.strip().lstrip("\ufeff").strip() for header in raw_headers]
    while headers and not headers[-1]:
        headers.pop()
    seen: dict[str, str] = {}
    for header in headers:
        if not header:
            raise ImportFailed(f"{name}:1: a column has no header; name it or delete it; nothing was written")
        if header_key(header) in seen:
            raise ImportFailed(f"{name}:1: the header '{header}' appears twice; rename one; nothing was written")
        seen[header_key(header)] = header
    rows: list[Row] = []
    empty = 0
    line = reader.line_num + 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                empty += 1
                continue
            extra = [cell for cell in cells[len(headers):] if cell.strip()]
            if extra:
                raise ImportFailed(f"{name}:{start}: the row has {len(cells)} cells but the header names "
                                   f"{len(headers)} columns (a delimiter or quote inside a cell?); nothing was written")
            padded = [*cells, *[""] * (len(headers) - len(cells))]
            rows.append(Row(start, dict(zip(headers, padded))))
    except csv.Error as exc:
        raise ImportFailed(f"{name}:{line}: {exc}; nothing was written") from None
    if empty:
        notices.append(f"{name}: skipped {empty} empty row{'s' if empty != 1 else ''}")
    return Table(name, tuple(headers), tuple(rows), encoding, delimiter, tuple(notices))


def read_table(path: Path, name: str | None = None) -> Table:
    """Read and parse the export at `path`."""
    name = name or str(path)
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            raise ImportFailed(f"{name}: larger than {MAX_CSV_BYTES // 2**20} MB; split it; nothing was written")
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"{name}: cannot read the file: {exc.strerror or exc}; nothing was written") from None
    text, encoding, notices = decode_export(data, name)
    return parse_table(text, name, encoding, notices)
