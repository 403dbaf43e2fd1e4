"""One reader for every uploaded table (schoolkit.uploads): the files a school has."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from schoolkit.errors import ApiError
from schoolkit.uploads import read_table

HEADER = ["Фамилия", "Имя", "Класс"]
ROWS = [["Иванова", "Мария", "5А"], ["Петров", "Илья", "5Б"]]


def csv_bytes(delimiter: str, encoding: str, bom: bool = False) -> bytes:
    lines = [delimiter.join(cells) for cells in [HEADER, *ROWS]]
    text = "\r\n".join(lines) + "\r\n"
    return ("\ufeff" if bom else "").encode(encoding) + text.encode(encoding)


@pytest.mark.parametrize(
    ("delimiter", "encoding", "bom", "made_by"),
    [
        (";", "cp1251", False, "Excel in Russia, «CSV (разделители — точка с запятой)»"),
        (",", "utf-8", True, "Excel, «CSV UTF-8»"),
        ("\t", "cp1251", False, "Excel, «Текст (разделитель — табуляция)»"),
        (",", "utf-8", False, "LibreOffice, Google Sheets"),
    ],
)
def test_every_csv_a_school_saves_reads_the_same(
    delimiter: str, encoding: str, bom: bool, made_by: str
) -> None:
    upload = read_table(csv_bytes(delimiter, encoding, bom))

    assert upload.header == HEADER, made_by
    assert [list(row.cells.values()) for row in upload.rows] == ROWS, made_by


def test_an_xlsx_is_told_by_its_bytes_and_its_numbers_read_as_typed() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Фамилия", "Оценка"])
    sheet.append(["Иванова", 5.0])
    content = io.BytesIO()
    workbook.save(content)

    upload = read_table(content.getvalue())

    assert [row.cells for row in upload.rows] == [{"Фамилия": "Иванова", "Оценка": "5"}]


def test_rows_are_numbered_as_the_spreadsheet_shows_them_empty_rows_counted() -> None:
    text = "Фамилия;Имя\nИванова;Мария\n;\nПетров;Илья\n"

    upload = read_table(text.encode("cp1251"))

    assert [(row.number, row.cells["Фамилия"]) for row in upload.rows] == [
        (2, "Иванова"),
        (4, "Петров"),
    ]


@pytest.mark.parametrize("content", [b"", b"   \n", b"PK\x03\x04 not really a workbook"])
def test_an_empty_or_broken_file_is_a_422_naming_the_file(content: bytes) -> None:
    with pytest.raises(ApiError) as refused:
        read_table(content)

    assert refused.value.status == 422
    assert "file" in refused.value.fields
