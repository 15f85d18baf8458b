"""English catalog: complete, in step with the code, compiled, and actually used.

Msgids are Japanese (the UI's first language); English is the one translation. A string
added to a template or to Python without an English translation fails here, so run
`scripts/i18n.sh extract`, translate what it lists, and `scripts/i18n.sh compile`.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "i18n.sh"
CATALOG_DIR = ROOT / "portal" / "translations" / "en" / "LC_MESSAGES"
PO = CATALOG_DIR / "messages.po"
MO = CATALOG_DIR / "messages.mo"

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
# printf-style conversions as Python's % operator reads them (what gettext strings use).
PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?"
                         r"[hlL]?(?P<type>[diouxXeEfFgGcrsa%])")
HOW_TO_FIX = ("run `scripts/i18n.sh extract`, translate the new entries in "
              "portal/translations/en/LC_MESSAGES/messages.po, then `scripts/i18n.sh compile`")


def _catalog():
    with PO.open("rb") as f:
        return read_po(f, abort_invalid=True)


def _messages(catalog):
    return [m for m in catalog if m.id]


def _strings(value) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


def _placeholders(text: str) -> list[tuple[str | None, str]]:
    return sorted(((m["name"], m["type"]) for m in PLACEHOLDER.finditer(text)
                   if m["type"] != "%"), key=str)


# (a) ---------------------------------------------------------------------------------

def test_catalog_has_no_untranslated_or_fuzzy_entries():
    catalog = _catalog()
    assert not catalog.fuzzy, "the catalog header is marked fuzzy; pybabel would not compile it"
    assert len(_messages(catalog)) > 50, "the English catalog is suspiciously small"
    fuzzy = [m.id for m in _messages(catalog) if m.fuzzy]
    untranslated = [m.id for m in _messages(catalog)
                    if not all(s.strip() for s in _strings(m.string))]
    assert not fuzzy, f"fuzzy entries {fuzzy}: check the translation and drop the flag"
    assert not untranslated, f"untranslated {untranslated}: {HOW_TO_FIX}"


def test_translations_are_english():
    """A msgstr left in Japanese (copied msgid) would pass the emptiness check."""
    japanese = [(m.id, m.string) for m in _messages(_catalog())
                if any(JAPANESE.search(s) for s in _strings(m.string))]
    assert not japanese, japanese


# (b) ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """What the extractor finds in the code now, with the keywords the script uses."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PYBABEL=str(bin_dir / "pybabel"), PYTHON=sys.executable)
    result = subprocess.run(["bash", str(SCRIPT), "pot", str(pot)], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, f"extraction failed:\n{result.stdout}\n{result.stderr}"
    with pot.open("rb") as f:
        return read_po(f, abort_invalid=True)


def test_every_extracted_msgid_is_in_the_catalog(extracted):
    catalog = _catalog()
    missing = sorted(f"{m.id!r} ({', '.join(f'{p}:{n}' for p, n in m.locations)})"
                     for m in _messages(extracted) if m.id not in catalog)
    assert not missing, f"not in the English catalog: {missing}; {HOW_TO_FIX}"


def test_extraction_sees_templates_python_and_services(extracted):
    """Guards babel.cfg: a pattern that silently matches nothing would empty (b)."""
    files = {path for m in _messages(extracted) for path, _line in m.locations}
    for expected in ("portal/templates/home.html", "portal/staff/forms.py",
                     "portal/staff/services.py", "portal/web/errors.py",
                     "portal/translations/dynamic_msgids.py",
                     "services/medication/plugin.py",
                     "services/medication/templates/medication/index.html"):
        assert expected in files, f"{expected} yields no messages; check babel.cfg"


def test_dynamic_msgids_are_in_the_catalog():
    """Strings that reach _() as variables, which the extractor cannot follow."""
    from portal.staff.models import ROLE_LABELS
    from portal.web.errors import MESSAGES
    catalog = _catalog()
    dynamic = {text for pair in MESSAGES.values() for text in pair} | set(ROLE_LABELS.values())
    missing = sorted(text for text in dynamic if text not in catalog)
    assert not missing, ("add these to portal/translations/dynamic_msgids.py as N_(\"…\"), "
                         f"then {HOW_TO_FIX}: {missing}")


def test_compiled_catalog_matches_the_po_file():
    assert MO.exists(), "messages.mo missing: run `scripts/i18n.sh compile` (make does)"
    with MO.open("rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id and m.string}
    # pybabel compiles translated, non-fuzzy entries; the rest fall back to the msgid.
    source = {m.id: m.string for m in _messages(_catalog()) if m.string and not m.fuzzy}
    assert compiled == source, "messages.mo is stale: run `scripts/i18n.sh compile`"


# (c) ---------------------------------------------------------------------------------

def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    # The link back to Japanese is meant to be in Japanese.
    html = re.sub(r'<a [^>]*lang="ja"[^>]*>.*?</a>', " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _english(client):
    assert client.get("/lang/en?next=/").status_code == 302


def test_home_page_in_english(client):
    _english(client)
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    heading = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert heading, html
    assert "Welcome" in heading[1]
    assert not JAPANESE.search(heading[1]), heading[1]
    assert not JAPANESE.search(_visible_text(html)), _visible_text(html)


def test_japanese_stays_the_default(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="ja">' in html and "窓口へようこそ" in html


@pytest.mark.parametrize("path", ["/staff/login", "/no/such/page"])
def test_other_pages_in_english(client, path):
    """Form labels (lazy_gettext) and error pages (dynamic msgids) are translated too."""
    _english(client)
    text = _visible_text(client.get(path).get_data(as_text=True))
    assert not JAPANESE.search(text), text


def test_error_messages_in_english(client):
    _english(client)
    body = client.get("/no/such/page", headers={"Accept": "application/json"}).get_json()
    assert body == {"error": "Page not found", "detail": "Please check the address."}


def test_staff_sign_in_refusal_in_english(client, make_city):
    make_city()
    _english(client)
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert token, page
    html = client.post("/staff/login", data={
        "csrf_token": token[1], "municipality_code": "392049", "username": "nobody",
        "password": "wrong password"}).get_data(as_text=True)
    assert "The username or password is incorrect." in html


# (d) ---------------------------------------------------------------------------------

def test_placeholders_match():
    catalog = _catalog()
    wrong = []
    for m in _messages(catalog):
        wanted = _placeholders(m.id if isinstance(m.id, str) else m.id[0])
        for text in _strings(m.string):
            if _placeholders(text) != wanted:
                wrong.append((m.id, text))
    assert not wrong, f"placeholders differ between msgid and msgstr: {wrong}"
    # babel's own checkers (python-format entries) must agree.
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems, problems


def test_placeholders_are_filled_in(app):
    from flask_babel import gettext, force_locale
    with app.test_request_context("/"):
        with force_locale("en"):
            assert gettext("%(name)s さん、ようこそ。", name="Hanako") == "Welcome, Hanako."
