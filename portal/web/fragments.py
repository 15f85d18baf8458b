"""Parts of a page rendered once per worker and kept, for records shown again and again
unchanged: a notebook's visits, a child's handbook sections.

A fragment is keyed by the page's language and by the records it shows, frozen whole
(every column of every row): a changed, added or removed record is a different key, so
nothing needs invalidating and nothing stale can be shown, and the same HTML is only ever
served for the same records. It is rendered from the Jinja environment with the context
it is given, not through Flask's render_template: no request, session, g, viewer or nonce
is in it, and the CSRF token's global is replaced by one that refuses, so a kept fragment
cannot carry one request's secrets into another's page. Like the growth charts,
what is kept stays in the worker's memory, bounded, and goes with the worker.
"""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, Callable

from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup

from portal.db import Read
from portal.web.i18n import gettext_callables


class Fragment:
    """A template whose output is kept per (language, frozen inputs).

    `render(inputs, context)`: `inputs` holds everything the fragment shows — rows, dates,
    flags — and is what the key is made of; `context()` builds the template's variables from
    them (derived values such as charts, plus constants such as labels and field specs) and
    runs only when the fragment is not kept yet. A value the template shows that is not
    derived from `inputs` or constant would be kept wrongly: pass it in `inputs`."""

    def __init__(self, template: str, size: int = 512) -> None:
        self.template, self.size = template, size
        self._kept: dict[tuple, Markup] = {}

    def render(self, inputs: dict[str, Any], context: Callable[[], dict]) -> Markup:
        key = (str(get_locale()), frozen(inputs))
        html = self._kept.get(key)
        if html is None:
            html = Markup(current_app.jinja_env.get_template(self.template).render(
                {**context(), **gettext_callables(), "csrf_token": _no_csrf_token}))
            if len(self._kept) >= self.size:   # a worker's memory is bounded; start again
                self._kept.clear()
            self._kept[key] = html
        return html


def _no_csrf_token():
    raise RuntimeError("a kept fragment cannot hold a CSRF token: it is served to others")


def frozen(value: Any):
    """`value` as a hashable key that equals another exactly when they hold the same
    things: rows (Read) by all their columns and what was attached to them, lists and
    dicts element by element; dates, numbers, strings and None as they are. (Plain values
    are passed over inline: a notebook's key is over a thousand of them.)"""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if isinstance(value, Read):
        columns = value.__dict__
        return (kind, tuple(columns), _frozen_all(columns.values()))
    if kind is list or kind is tuple:
        return _frozen_all(value)
    if isinstance(value, dict):
        return (tuple(value), _frozen_all(value.values()))
    if isinstance(value, Enum):
        return value
    # An ORM object or the like hashes by identity: a key no later request would find
    # again, or one that stays the same while the object changes. Refused.
    raise TypeError(f"cannot key a kept fragment on a {kind.__name__}")


def _frozen_all(values) -> tuple:
    return tuple([v if type(v) in _PLAIN else frozen(v) for v in values])


_PLAIN = frozenset({str, int, float, bool, Decimal, date, datetime, time, bytes, type(None)})
