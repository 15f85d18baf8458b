"""Japanese first, English second. The choice is a cookie set by /lang/<code>."""
from __future__ import annotations

from flask import Flask, current_app, g, has_app_context, request
from flask_babel import Babel, get_translations
from flask_babel.speaklater import LazyString

LANG_COOKIE = "madoguchi_lang"


def select_locale() -> str:
    wanted = request.cookies.get(LANG_COOKIE) or request.args.get("lang")
    if wanted in current_app.config["LOCALES"]:
        return wanted
    return current_app.config["DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LOCALE"])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Tokyo")
    Babel(app, locale_selector=select_locale)

    from flask_babel import get_locale
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.context_processor(gettext_callables)


def gettext_callables() -> dict:
    """The template callables (_, gettext, ngettext, pgettext) of the request's language.

    Flask-Babel's look up the request's context, domain, locale and catalogue again for
    every string (about 100× the cost of the string itself, measured in bench/i18n.py).
    These look the catalogue up once per render: a context processor of every page
    (context variables take precedence over the environment's globals), and given to a
    template rendered from the environment directly (portal.web.fragments)."""
    from jinja2.ext import _make_new_gettext, _make_new_ngettext, _make_new_pgettext
    translations = _translations()
    gettext = _make_new_gettext(translations.ugettext)
    return {"gettext": gettext, "_": gettext,
            "ngettext": _make_new_ngettext(translations.ungettext),
            "pgettext": _make_new_pgettext(translations.upgettext)}


# -- gettext for Python code ---------------------------------------------------------------------
# Flask-Babel's gettext finds the context, the domain, the locale and the catalogue again for
# every string: ~42 µs, 47 times on a child page (a fifth of its time in-process). These look
# the catalogue up once per request and locale; a force_locale() or refresh() changes the
# context's locale object, so the next string looks it up again.

def gettext(string: str, **variables) -> str:
    translated = _translations().ugettext(string)
    return translated % variables if variables else translated


def lazy_gettext(string: str, **variables) -> LazyString:
    """Flask-Babel's lazy string, translated when shown through the gettext above (its own
    lazy_gettext goes through Flask-Babel's gettext: a search page of 50 residents spent
    a tenth of its time on the status word of each row)."""
    return LazyString(gettext, string, **variables)


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return _translations().ungettext(singular, plural, num) % variables


def _translations():
    if not has_app_context():
        return get_translations()          # Flask-Babel's NullTranslations
    babel = g.get("_flask_babel")
    locale = getattr(babel, "babel_locale", None)
    cached = g.get("_madoguchi_translations")
    if locale is not None and cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    g._madoguchi_translations = (getattr(g.get("_flask_babel"), "babel_locale", None),
                                 translations)
    return translations
