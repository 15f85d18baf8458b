#!/usr/bin/env bash
# Message catalogs. Msgids are Japanese (the source language); English is the one catalog.
#
#   scripts/i18n.sh extract        extract messages.pot, then update (or create) the en catalog,
#                                  and list what still needs translating
#   scripts/i18n.sh compile        compile every catalog to messages.mo (what `make` runs)
#   scripts/i18n.sh check          exit 1 if any entry is untranslated or fuzzy
#   scripts/i18n.sh pot FILE       only extract, into FILE (tests/core/test_i18n.py uses this)
#
# Runs from anywhere; uses the repo's .venv (pybabel, python) unless PYBABEL / PYTHON name
# others. Fails loudly (non-zero exit, message on stderr) on any pybabel error, a missing
# catalog, or a .mo that was not written. Untranslated entries are only warned about by
# extract/compile (they fall back to Japanese at run time); `check` and
# tests/core/test_i18n.py are what fail on them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PYBABEL=${PYBABEL:-$ROOT/.venv/bin/pybabel}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
CFG=babel.cfg
TRANSLATIONS=portal/translations
POT=$TRANSLATIONS/messages.pot
LOCALES=(en)
# Babel's default keywords plus ours (see babel.cfg for what each is).
KEYWORDS=(-k _l -k lazy_gettext -k N_ -k SignInRefused:1 -k EnrollmentRefused:1)

die() { echo "i18n: $*" >&2; exit 1; }

[ -x "$PYBABEL" ] || die "pybabel not found at $PYBABEL (create the venv: python -m venv .venv && .venv/bin/pip install -e '.[test]')"
[ -f "$CFG" ] || die "$CFG missing"

pot() {
    local out=$1
    "$PYBABEL" -q extract -F "$CFG" "${KEYWORDS[@]}" \
        --add-comments=TRANSLATORS: --sort-by-file \
        --project=Madoguchi --version=0.1.0 --msgid-bugs-address=madoguchi@example.invalid \
        --copyright-holder="Madoguchi contributors" \
        -o "$out" . \
        || die "extraction failed"
    # babel.cfg patterns are relative to the repo root; a pattern that matches nothing
    # extracts nothing without complaint, so an empty template is an error.
    grep -q '^msgid "[^"]' "$out" || die "no messages extracted into $out (check $CFG)"
}

extract() {
    pot "$POT"
    local locale po
    for locale in "${LOCALES[@]}"; do
        po=$TRANSLATIONS/$locale/LC_MESSAGES/messages.po
        if [ -f "$po" ]; then
            # No fuzzy matching: a guessed translation is worse than an obvious gap.
            "$PYBABEL" -q update -i "$POT" -d "$TRANSLATIONS" -l "$locale" \
                --no-fuzzy-matching --ignore-obsolete --init-missing \
                || die "updating $po failed"
        else
            "$PYBABEL" -q init -i "$POT" -d "$TRANSLATIONS" -l "$locale" \
                || die "creating $po failed"
        fi
    done
    gaps || echo "i18n: translate the entries above in $TRANSLATIONS/*/LC_MESSAGES/messages.po" >&2
}

# 0 when every catalog is fully translated, 1 (after listing them) when some entries are
# untranslated or fuzzy; a catalog that cannot be read stops the script.
gaps() {
    local rc=0
    report || rc=$?
    case $rc in
        0) return 0 ;;
        3) return 1 ;;
        *) die "cannot read the catalogs" ;;
    esac
}

# Lists untranslated and fuzzy entries on stderr; exit 3 if there are any.
report() {
    "$PYTHON" - "$TRANSLATIONS" "${LOCALES[@]}" <<'PY'
import sys
from babel.messages.pofile import read_po

directory, *locales = sys.argv[1:]
bad = 0
for locale in locales:
    path = f"{directory}/{locale}/LC_MESSAGES/messages.po"
    with open(path, "rb") as f:
        catalog = read_po(f, abort_invalid=True)
    for m in catalog:
        if not m.id:
            continue
        if m.fuzzy or not (m.string if isinstance(m.string, str) else all(m.string)):
            bad += 1
            state = "fuzzy" if m.fuzzy else "untranslated"
            print(f"i18n: {path}: {state}: {m.id!r}", file=sys.stderr)
sys.exit(3 if bad else 0)
PY
}

compile() {
    local locale po mo tmp
    for locale in "${LOCALES[@]}"; do
        po=$TRANSLATIONS/$locale/LC_MESSAGES/messages.po
        [ -f "$po" ] || die "$po missing: run scripts/i18n.sh extract"
    done
    gaps || echo "i18n: warning: the entries above are not translated and will show in Japanese" >&2
    for locale in "${LOCALES[@]}"; do
        po=$TRANSLATIONS/$locale/LC_MESSAGES/messages.po
        mo=$TRANSLATIONS/$locale/LC_MESSAGES/messages.mo
        tmp=${mo%.mo}.tmp.mo  # still matched by .gitignore's *.mo
        rm -f "$tmp"
        # --statistics makes the counts visible in build logs.
        "$PYBABEL" compile -i "$po" -o "$tmp" -l "$locale" --statistics \
            || { rm -f "$tmp"; die "compiling $po failed"; }
        # pybabel skips a catalog whose header is fuzzy and still exits 0.
        [ -s "$tmp" ] || die "$mo was not written (is the catalog header marked fuzzy?)"
        mv -f "$tmp" "$mo"  # a running server never sees a half-written file
    done
}

case ${1:-} in
    extract) extract ;;
    compile) compile ;;
    check) gaps || die "untranslated or fuzzy entries (listed above)" ;;
    pot) [ $# -eq 2 ] || die "usage: $0 pot FILE"; pot "$2" ;;
    *) echo "usage: $0 {extract|compile|check|pot FILE}" >&2; exit 2 ;;
esac
