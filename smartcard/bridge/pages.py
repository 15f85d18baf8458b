"""The bridge's pages: templates filled with escaped values, on-screen keys, query parsing."""
from __future__ import annotations

import html
from importlib import resources
from string import Template
from urllib.parse import unquote


def template(name: str) -> Template:
    """A page template shipped with the package (``$name`` placeholders)."""
    return Template(resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8"))


def static_file(name: str) -> bytes:
    """A script or style sheet shipped with the package (the CSP forbids inline ones)."""
    return resources.files(__package__).joinpath("static", name).read_bytes()


def render(name: str, **values: str) -> bytes:
    """Fill a template; every value is HTML-escaped (``raw_*`` keys are trusted markup)."""
    escaped = {k: (v if k.startswith("raw_") else html.escape(str(v), quote=True)) for k, v in values.items()}
    return template(name).substitute(escaped).encode("utf-8")


def pinpad_markup() -> str:
    """The kiosk's on-screen PIN pad: large digit buttons, correction and clear."""
    keys = [str(d) for d in range(1, 10)] + ["clear", "0", "back"]
    labels = {"clear": "クリア", "back": "1字消す"}
    buttons = "".join(f'<button type="button" class="key" data-key="{k}">{labels.get(k, k)}</button>'
                      for k in keys)
    return f'<div class="pinpad" id="pinpad" data-for="pin">{buttons}</div>'


def keyboard_markup() -> str:
    """The kiosk's on-screen keyboard for the signing password (A–Z, 0–9)."""
    keys = list("1234567890QWERTYUIOPASDFGHJKLZXCVBNM") + ["clear", "back"]
    labels = {"clear": "クリア", "back": "1字消す"}
    buttons = "".join(f'<button type="button" class="key" data-key="{k}">{labels.get(k, k)}</button>'
                      for k in keys)
    return f'<div class="keyboard" id="keyboard" data-for="password">{buttons}</div>'


def parse_query(query: str) -> dict[str, str]:
    """Query parameters without turning ``+`` into a space (a base64 nonce may hold ``+``)."""
    params: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name and name not in params:
            params[unquote(name)] = unquote(value)
    return params
