"""Japanese first, English second. The choice is a cookie set by /lang/<code>."""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import Babel

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
