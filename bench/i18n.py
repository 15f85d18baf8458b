"""What a translated string costs in a page template, against the same string untranslated.

Renders, through Flask's `render_template_string` in an English request (the catalogue is
used), a template of N `{{ _("…") }}` strings and the same template with the strings as
plain literals, and prints the time per string of each and their ratio. The portal binds
the catalogue once per render (portal.web.i18n); Flask-Babel's own template callables
look it up again for every string, which is printed beside as the "per-string lookup".

    .venv/bin/python bench/i18n.py [--strings 1000] [--renders 50]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import render_template_string  # noqa: E402

from portal import create_app  # noqa: E402

MESSAGE = "ページが見つかりません"  # in the English catalogue


def per_string(source: str, strings: int, renders: int, context: dict | None = None) -> float:
    render_template_string(source, **(context or {}))
    start = time.perf_counter()
    for _ in range(renders):
        render_template_string(source, **(context or {}))
    return (time.perf_counter() - start) / renders / strings * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strings", type=int, default=1000)
    parser.add_argument("--renders", type=int, default=50)
    args = parser.parse_args()
    app = create_app({"ENV": "development", "SECRET_KEY": "bench", "DATABASE_URL": "sqlite://",
                      "INSTANCE_PATH": tempfile.mkdtemp()})
    loop = "{% for i in range(N) %}BODY{% endfor %}".replace("N", str(args.strings))
    translated = loop.replace("BODY", "{{ _('" + MESSAGE + "') }}")
    plain = loop.replace("BODY", "{{ '" + MESSAGE + "' }}")
    with app.test_request_context("/", headers={"Cookie": "madoguchi_lang=en"}):
        assert "Page not found" in render_template_string("{{ _('" + MESSAGE + "') }}")
        from flask_babel import get_translations
        babel_lookup = per_string(
            "{% for i in range(" + str(args.strings) + ") %}{{ lookup().ugettext(m) }}{% endfor %}",
            args.strings, args.renders, {"lookup": get_translations, "m": MESSAGE})
        t_plain = per_string(plain, args.strings, args.renders)
        t_translated = per_string(translated, args.strings, args.renders)
    print(f"plain literal:            {t_plain:8.2f} µs per string")
    print(f"per-string lookup (Flask-Babel's callables): {babel_lookup:8.2f} µs per string")
    print(f"translated (portal):      {t_translated:8.2f} µs per string")
    print(f"ratio translated / plain: {t_translated / t_plain:.1f}×; "
          f"per-string lookup / plain: {babel_lookup / t_plain:.1f}×")


if __name__ == "__main__":
    main()
