"""Printable documents carry Russian text that a reader can copy back out."""

from __future__ import annotations

import io

from pypdf import PdfReader

from schoolkit.pdf import heading, new_document, paragraph, table, to_bytes


def test_a_document_with_cyrillic_text_and_a_table_reads_back_as_written() -> None:
    document = new_document("Акт")
    heading(document, "Акт об уничтожении персональных данных")
    paragraph(document, "Съешь же ещё этих мягких французских булок, да выпей чаю.")
    table(document, [["Система", "Записей"], ["Электронный журнал", "412"]], (120, 40))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(to_bytes(document))).pages)
    assert "Акт об уничтожении персональных данных" in text
    assert "французских булок" in text
    assert "Электронный журнал" in text
