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


def _forms(value) -> tuple[str, ...]:
    """A message's id or string as a tuple: plural entries come as a list from read_mo."""
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


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
                     "services/medication/templates/medication/index.html",
                     # N_ markers in the services, and the EnrollmentRefused keyword
                     "services/maternal_health/schedule.py",
                     "services/maternal_health/growth.py",
                     "services/medication/jahis/diagnostics.py",
                     "services/convenience_issuance/templates/convenience_issuance/index.html",
                     "portal/cards/services.py"):
        assert expected in files, f"{expected} yields no messages; check babel.cfg"


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


# Calls whose Japanese string arguments become access-log purposes (shown to residents
# through |purpose_label), and the suffixes services/medication/views.py purpose() adds.
PURPOSE_CALLS = {"log_access", "child_for_viewer"}
MEDICATION_PURPOSE_CALLS = {"purpose", "logged_read", "logged_export"}
MEDICATION_SUFFIXES = ("（職員）", "（本人）", "（保護者）")


def _logged_purposes() -> set[str]:
    """Literal purposes handed to log_access (directly, through a module constant, or via
    the maternal-health / medication helpers), found by reading the source."""
    import ast
    found = set()
    for path in sorted([*(ROOT / "portal").rglob("*.py"), *(ROOT / "services").rglob("*.py")]):
        if "tests" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                     for t in node.targets if isinstance(t, ast.Name)
                     and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in MEDICATION_PURPOSE_CALLS:
                texts = [d.value for d in node.args.defaults
                         if isinstance(d, ast.Constant) and isinstance(d.value, str)]
                found |= {t + s for t in texts if JAPANESE.search(t) for s in MEDICATION_SUFFIXES}
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            args = [constants.get(a.id) if isinstance(a, ast.Name) else
                    a.value if isinstance(a, ast.Constant) else None for a in node.args]
            texts = [a for a in args if isinstance(a, str) and JAPANESE.search(a)]
            if name in PURPOSE_CALLS:
                found |= set(texts)
            elif name in MEDICATION_PURPOSE_CALLS:
                found |= {t + s for t in texts for s in MEDICATION_SUFFIXES}
    return found


def _dynamic_sources() -> dict[str, set[str]]:
    """Japanese strings that reach _() / gettext as variables, by where they come from."""
    from portal.cards.errors import CardTokenError
    from portal.jointcloud.report import CATEGORY_LABELS
    from portal.plugins import load_plugins
    from portal.staff.models import ROLE_LABELS
    from portal.web.errors import MESSAGES
    from services.convenience_issuance.services import CERTIFICATE_LABELS
    from services.maternal_health import growth, schedule
    from services.maternal_health.services import CHECKUP_OCCASIONS, RECORD_TYPES
    from services.maternal_health.views import SEX_WORDS
    from services.medication.jahis.diagnostics import MESSAGES as DIAGNOSTICS

    record_texts = set()
    for record_type in RECORD_TYPES.values():
        record_texts.add(record_type.label)
        for spec in record_type.fields:
            record_texts.add(spec.label)
            record_texts |= {label for _value, label in spec.choices}
    return {
        "portal/web/errors.py MESSAGES": {text for pair in MESSAGES.values() for text in pair},
        "portal/staff/models.py ROLE_LABELS": set(ROLE_LABELS.values()),
        "portal/cards/errors.py messages": {c.message for c in (CardTokenError,
                                                                *_subclasses(CardTokenError))},
        "plugin titles": {p.title for p in load_plugins().values()},
        "portal/jointcloud/report.py CATEGORY_LABELS": set(CATEGORY_LABELS.values()),
        "access-log purposes": _logged_purposes(),
        "convenience_issuance CERTIFICATE_LABELS": set(CERTIFICATE_LABELS.values()),
        "maternal_health schedule labels": {*schedule.VACCINE_LABELS.values(),
                                            *schedule.STATUS_LABELS.values()},
        "maternal_health growth labels": set(growth.MEASURE_LABELS.values()),
        "maternal_health record types": {t for t in record_texts if JAPANESE.search(t)},
        "maternal_health checkup occasions": {label for _key, label in CHECKUP_OCCASIONS},
        "maternal_health SEX_WORDS": set(SEX_WORDS.values()),
        "medication diagnostics": set(DIAGNOSTICS.values()),
    }


def test_dynamic_msgids_are_in_the_catalog():
    """Strings that reach _() as variables, which the extractor cannot follow."""
    catalog = _catalog()
    missing = {source: sorted(text for text in texts if text not in catalog)
               for source, texts in _dynamic_sources().items()}
    missing = {source: texts for source, texts in missing.items() if texts}
    assert not missing, ("mark these with N_(\"…\") where they are defined, or list them in "
                         f"portal/translations/dynamic_msgids.py, then {HOW_TO_FIX}: {missing}")


def test_dynamic_sources_are_found():
    """Guards the collector above: an import or scan that silently finds nothing."""
    sources = _dynamic_sources()
    empty = [source for source, texts in sources.items() if not texts]
    assert not empty, empty
    assert "お薬手帳の確認（本人）" in sources["access-log purposes"]
    assert "コンビニ交付による証明書の発行" in sources["access-log purposes"]


def test_compiled_catalog_matches_the_po_file():
    assert MO.exists(), "messages.mo missing: run `scripts/i18n.sh compile` (make does)"
    with MO.open("rb") as f:
        compiled = {_forms(m.id): _forms(m.string) for m in read_mo(f) if m.id and m.string}
    # pybabel compiles translated, non-fuzzy entries; the rest fall back to the msgid.
    source = {_forms(m.id): _forms(m.string) for m in _messages(_catalog())
              if m.string and not m.fuzzy}
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
    assert body == {"error": "not_found", "message": "Page not found",
                    "detail": "Please check the address."}


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


# (d) ---------------------------------------------------------------------------------

# Japanese that may stand in an English msgstr: proper names only. Empty today; an entry
# needs a reason (e.g. a place's name with no English form).
PROPER_NAMES: frozenset[str] = frozenset()
COMPOSING = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def test_compiled_english_catalogs_hold_no_japanese_but_proper_names():
    """Every compiled catalog of the portal and the services, as served."""
    catalogs = sorted({*ROOT.glob("portal/**/en/LC_MESSAGES/*.mo"),
                       *ROOT.glob("services/**/en/LC_MESSAGES/*.mo")})
    assert MO in catalogs
    found = []
    for path in catalogs:
        with path.open("rb") as f:
            for m in read_mo(f):
                for text in _forms(m.string) if m.id else ():
                    rest = text
                    for name in PROPER_NAMES:
                        rest = rest.replace(name, "")
                    if COMPOSING.search(rest):
                        found.append((path.name, m.id, text))
    assert not found, found


def _template_text(source: str) -> str:
    """What a template writes itself: outside Jinja tags, comments and HTML tags, and not
    in an element marked lang="ja" (the link back to Japanese)."""
    text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", source, flags=re.S)
    text = re.sub(r'<([a-z]+)[^>]*lang="ja"[^>]*>.*?</\1>', " ", text, flags=re.S)
    return re.sub(r"<[^>]+>", " ", text)


def test_templates_write_no_japanese_outside_the_catalog():
    """A （, ：, 〜 or ・ written around a value in a template showed on English pages
    ("Weight（boy）", "Person：…"): every Japanese character goes through gettext, where
    the English catalog gives its English form."""
    templates = sorted({*ROOT.glob("portal/templates/**/*.html"),
                        *ROOT.glob("services/*/templates/**/*.html")})
    assert len(templates) > 30
    found = {str(path.relative_to(ROOT)): COMPOSING.findall(_template_text(path.read_text("utf-8")))
             for path in templates}
    assert {path: chars for path, chars in found.items() if chars} == {}


# (e) ---------------------------------------------------------------------------------

# A count (by its placeholder's name) followed by a plural noun: "1 records" when the
# count is one. Such a message must be a plural entry (ngettext) or say it otherwise.
COUNTED_NOUN = re.compile(r"%\((?:n|num|count|visits|extra|missing|found|expected|planned)\)[ds]"
                          r" (?:[a-z-]+ )?(?!is\b|was\b|has\b|does\b)[a-z-]+s\b")


def test_english_counts_agree_with_their_number():
    singular_only = [(m.id, m.string) for m in _messages(_catalog())
                     if not isinstance(m.id, tuple) and COUNTED_NOUN.search(m.string)]
    assert not singular_only, singular_only


def test_catalog_defines_each_msgid_once():
    """read_po keeps the last of two definitions silently; msgfmt refuses the file."""
    ids = re.findall(r'^msgid "(.*)"$', PO.read_text(encoding="utf-8"), flags=re.M)
    assert sorted({i for i in ids if ids.count(i) > 1} - {""}) == []


def test_python_gettext_follows_the_request_and_a_forced_locale(app):
    """portal.web.i18n.gettext keeps the catalogue per request and locale: a force_locale()
    inside the request (the access log words both languages) must still switch it."""
    from flask_babel import force_locale
    from portal.web.i18n import gettext, ngettext
    with app.test_request_context("/", headers={"Cookie": "madoguchi_lang=en"}):
        assert gettext("合計") == "Total"
        with force_locale("ja"):
            assert gettext("合計") == "合計"
        assert gettext("合計") == "Total"
        assert ngettext("ほか %(n)d 組", "ほか %(n)d 組", 1, n=1) == "and 1 more pair"
        assert ngettext("ほか %(n)d 組", "ほか %(n)d 組", 3, n=3) == "and 3 more pairs"
    with app.test_request_context("/"):
        assert gettext("合計") == "合計"       # the next request, in the default language
    assert gettext("合計") == "合計"           # no request: the msgid itself


def test_lazy_words_are_shown_in_the_language_of_the_request_they_are_shown_in(app):
    """Labels made at import (portal.web.i18n.lazy_gettext) translate when shown, through
    the per-request catalogue, in templates and in Python alike."""
    from flask import render_template_string
    from flask_babel import force_locale
    from portal.web.labels import STATUSES
    word = STATUSES["moved_out"]
    with app.test_request_context("/", headers={"Cookie": "madoguchi_lang=en"}):
        assert str(word) == "Moved out"
        assert render_template_string("{{ w }}", w=word) == "Moved out"
        with force_locale("ja"):
            assert str(word) == "転出"
    with app.test_request_context("/"):
        assert render_template_string("{{ w }}", w=word) == "転出"
    assert str(word) == "転出"                  # no request: the msgid itself
