"""Printable credential slips for a class (R-IDN-7, issue 3 §5): one slip per student with a
fresh registration code, cut apart and handed to the guardians (A4, Cyrillic)."""

from __future__ import annotations

import os
from zoneinfo import ZoneInfo

from fpdf import FPDF

from identity.invitations import IssuedCode
from identity.models import Person
from schoolkit import pdf

SLIP_HEIGHT = 52.0
LOCAL_TIME = ZoneInfo("Europe/Moscow")


def registration_address() -> str:
    base = os.environ.get("IDENTITY_PUBLIC_URL") or "http://127.0.0.1:8080"
    return f"{base.rstrip('/')}/console/register"


def class_slips(class_name: str, issued: list[tuple[Person, IssuedCode]]) -> bytes:
    document = pdf.new_document(f"Коды регистрации, класс {class_name}")
    pdf.heading(
        document, f"Коды регистрации родителей (законных представителей), класс {class_name}"
    )
    for person, code in issued:
        if document.get_y() + SLIP_HEIGHT > document.h - document.b_margin:
            document.add_page()
        _slip(document, class_name, person, code)
    return pdf.to_bytes(document)


def _slip(document: FPDF, class_name: str, student: Person, issued: IssuedCode) -> None:
    top = document.get_y()
    width = document.w - document.l_margin - document.r_margin
    document.set_draw_color(120)
    document.set_dash_pattern(dash=1.5, gap=1.5)
    document.rect(document.l_margin, top, width, SLIP_HEIGHT - 4)
    document.set_dash_pattern()
    document.set_xy(document.l_margin + 4, top + 3)
    name = " ".join(part for part in (student.last_name, student.first_name) if part)
    until = issued.invitation.expires_at.astimezone(LOCAL_TIME).strftime("%d.%m.%Y")
    document.set_font(pdf.FAMILY, "B", 11)
    document.cell(0, 6, f"Ученик: {name}, класс {class_name}", new_x="LMARGIN", new_y="NEXT")
    document.set_x(document.l_margin + 4)
    document.set_font(pdf.FAMILY, "B", 16)
    document.cell(0, 10, f"Код: {issued.code}", new_x="LMARGIN", new_y="NEXT")
    document.set_font(pdf.FAMILY, size=9)
    lines = (
        f"Зарегистрируйтесь по адресу {registration_address()} до {until}: "
        "введите код, придумайте логин и пароль. Код действует один раз.",
        "Никому не сообщайте код и пароль. Если код потерян, попросите в школе новый.",
    )
    for line in lines:
        document.set_x(document.l_margin + 4)
        document.multi_cell(width - 8, 4.5, line, new_x="LMARGIN", new_y="NEXT")
    document.set_y(top + SLIP_HEIGHT)
