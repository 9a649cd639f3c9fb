"""The English catalog: complete, compiled, and matching the messages the code and templates use."""
from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from service.config import PROJECT_ROOT

PO = PROJECT_ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def _used_messages() -> set[str]:
    method_map = [("service/**.py", "python"), ("templates/**.html", "jinja2")]  # as translations/babel.cfg
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(PROJECT_ROOT), method_map=method_map, keywords={"_": None, "gettext": None, "_l": None,
                                                               "lazy_gettext": None, "ngettext": (1, 2)}):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_an_english_translation():
    po = read_po(PO.open("rb"))
    translated = {m.id for m in po if m.id and m.string}
    missing = sorted(_used_messages() - translated)
    assert missing == [], f"add these to {PO} and run `pybabel compile -d translations`: {missing}"


def test_the_compiled_catalog_matches_the_po_file():
    po = read_po(PO.open("rb"))
    mo = read_mo(MO.open("rb"))
    assert {m.id: m.string for m in po if m.id} == {m.id: m.string for m in mo if m.id}, \
        "translations/en/LC_MESSAGES/messages.mo is stale: run `pybabel compile -d translations`"
