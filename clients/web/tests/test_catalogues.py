"""Every text of the pages has its English, and the compiled catalogue is the current one
(a fresh clone serves English without compiling anything)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

PACKAGE = Path(__file__).resolve().parents[1]
ENGLISH = PACKAGE / "web" / "translations" / "en" / "LC_MESSAGES"
METHODS = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]


def texts_in_the_code() -> set[str]:
    keywords = {"_": None, "gettext": None, "N_": None}
    found = extract_from_dir(str(PACKAGE), METHODS, keywords=keywords)
    return {message for _file, _line, message, _comments, _context in found}


def test_every_text_has_an_english_translation() -> None:
    with (ENGLISH / "messages.po").open("rb") as po_file:
        catalogue = read_po(po_file)
    missing = [text for text in texts_in_the_code() if not (catalogue.get(text) or None)]
    assert not missing, f"run pybabel update (clients/web/README.md): {missing}"
    untranslated = [text for text in texts_in_the_code() if not catalogue.get(text).string]
    assert not untranslated


def test_the_compiled_catalogue_matches_its_source() -> None:
    with (ENGLISH / "messages.po").open("rb") as po_file:
        source = {m.id: m.string for m in read_po(po_file) if m.id}
    with (ENGLISH / "messages.mo").open("rb") as mo_file:
        compiled = {m.id: m.string for m in read_mo(mo_file) if m.id}
    assert compiled == source, "run pybabel compile (clients/web/README.md)"
