"""Printable documents (acts, extracts, credential slips, summary sheets) with Cyrillic.

DejaVu Sans ships inside the kit (fonts/, with its licence), so a fresh machine prints
Russian text without any system font.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"


def new_document(title: str, orientation: str = "portrait") -> FPDF:
    """An A4 document (portrait unless told) with DejaVu Sans (regular and bold) and
    automatic pages; wide tables such as summary sheets print in landscape."""
    document = FPDF(orientation=orientation, unit="mm", format="A4")
    document.set_title(title)
    document.set_creator("school platform")
    document.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    document.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    document.set_auto_page_break(auto=True, margin=15)
    document.set_margins(20, 15, 15)
    document.add_page()
    document.set_font(FAMILY, size=11)
    return document


def heading(document: FPDF, text: str, size: int = 14) -> None:
    document.set_font(FAMILY, "B", size)
    document.multi_cell(0, 7, text, align="C", new_x="LMARGIN", new_y="NEXT")
    document.ln(3)
    document.set_font(FAMILY, size=11)


def paragraph(document: FPDF, text: str, size: int = 11) -> None:
    document.set_font(FAMILY, size=size)
    document.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    document.ln(1)


def table(document: FPDF, rows: list[list[str]], widths: tuple[float, ...]) -> None:
    """A ruled table; its first row is the header."""
    document.set_font(FAMILY, size=9)
    with document.table(col_widths=widths, text_align="LEFT") as grid:
        for row in rows:
            cells = grid.row()
            for value in row:
                cells.cell(value)
    document.ln(2)
    document.set_font(FAMILY, size=11)


def to_bytes(document: FPDF) -> bytes:
    return bytes(document.output())
