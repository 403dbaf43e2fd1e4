"""Reading an uploaded table (CSV or XLSX) into numbered rows of named cells: every
import of every service reads its files here, so they all take the same files.

Row numbers are those a spreadsheet shows: the header is row 1, the first data row 2,
empty rows counted. CSV may come from Excel as a school has it: UTF-8 with or without a
BOM, or Windows-1251 (what Excel in Russia saves as "CSV"); separated by commas,
semicolons (Excel in Russia) or tabs ("Unicode text"). XLSX is told by its bytes, whatever
the file is called.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from openpyxl import load_workbook

from schoolkit.errors import ApiError

ZIP_MAGIC = b"PK\x03\x04"
DELIMITERS = ",;\t"


@dataclass(frozen=True)
class Row:
    number: int
    cells: dict[str, str]
    file: str | None = None


@dataclass(frozen=True)
class Upload:
    header: list[str]
    rows: list[Row]


def read_table(content: bytes, file: str | None = None) -> Upload:
    """The header and every non-empty row of the first sheet (XLSX) or of the text (CSV)."""
    if not content.strip():
        raise ApiError(422, "empty_file", "The file has no rows.", {"file": "Empty."})
    table: list[list[Any]] = (
        _xlsx_table(content) if content.startswith(ZIP_MAGIC) else _csv_table(content)
    )
    header = [str(name or "").strip() for name in table[0]]
    rows = []
    for number, values in enumerate(table[1:], start=2):
        cells = {name: _text(value) for name, value in zip(header, values, strict=False) if name}
        if any(cells.values()):
            rows.append(Row(number, cells, file))
    return Upload(header, rows)


def require_columns(upload: Upload, required: set[str], file: str = "file") -> None:
    missing = sorted(required - set(upload.header))
    if missing:
        raise ApiError(
            422,
            "missing_columns",
            "The file lacks columns the import needs.",
            {file: f"Missing columns: {', '.join(missing)}."},
        )


def _csv_table(content: bytes) -> list[list[str]]:
    text = _decoded(content)
    # The header tells the separator: the one it holds most of.
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    return [
        [cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)
    ]


def _decoded(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ApiError(
        422,
        "unreadable_file",
        "The file is neither UTF-8 nor Windows-1251 text.",
        {"file": "Unreadable text."},
    )


def _xlsx_table(content: bytes) -> list[list[object]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ApiError(
            422, "unreadable_file", "Not an XLSX workbook.", {"file": "Unreadable."}
        ) from None
    sheet = workbook.worksheets[0]
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    if not table:
        raise ApiError(422, "empty_file", "The file has no rows.", {"file": "Empty."})
    return table


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a spreadsheet's 5.0 is the 5 that was typed
    if hasattr(value, "date") and hasattr(value, "hour"):
        return value.date().isoformat()  # type: ignore[attr-defined]
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[attr-defined]
    return str(value).strip()
