"""Bounded request bodies, checked in one place for every view.

A JSON body nested 5,000 deep made `json.loads` raise RecursionError (a 500, before any
view could refuse it), and PostgreSQL refuses text holding NUL characters (another 500).
So every JSON body any view reads goes through `BoundedJSONProvider.loads` — size, nesting
depth and NUL are checked before or right after parsing, and a refusal is a ValueError,
which Flask turns into 400 (or `None` for `get_json(silent=True)`) — and query strings
and form fields with NUL are refused before the view runs.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, request
from flask.json.provider import DefaultJSONProvider

DEFAULT_MAX_BYTES = 256 * 1024
DEFAULT_MAX_DEPTH = 32


class JSONRefused(ValueError):
    """The body is JSON the portal will not parse: too large, too deep, or holding NUL."""


def nesting_depth(text: str, limit: int) -> int:
    """How deep arrays and objects nest (brackets inside strings do not count); counting
    stops once `limit` is passed, so the answer is at most limit + 1."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        elif ch in "]}":
            depth -= 1
    return deepest


def holds_nul(value: Any) -> bool:
    """Any string (key or value) with a NUL character; `value` is already depth-bounded."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(v) for v in value)
    return False


def check_json(raw: str | bytes, max_bytes: int, max_depth: int) -> str:
    """The body as text when it is small and shallow enough to parse; else JSONRefused."""
    if len(raw) > max_bytes:
        raise JSONRefused(f"JSON body of {len(raw)} bytes (at most {max_bytes})")
    text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
    # Counting brackets is cheap; walk the text only when they could nest too deep.
    if text.count("[") + text.count("{") > max_depth and nesting_depth(text, max_depth) > max_depth:
        raise JSONRefused(f"JSON nested deeper than {max_depth}")
    return text


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing bodies too large or too deep to parse safely."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        config = self._app.config
        try:
            text = check_json(s, config.get("JSON_MAX_BYTES", DEFAULT_MAX_BYTES),
                              config.get("JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))
        except UnicodeDecodeError as exc:
            raise JSONRefused(f"JSON body is not UTF-8: {exc}") from None
        value = super().loads(text, **kwargs)
        if holds_nul(value):
            raise JSONRefused("JSON string with a NUL character")
        return value


def refuse_oversized_json() -> None:
    """Before each request: a JSON body announced larger than the limit is 413 unread."""
    limit = current_app.config.get("JSON_MAX_BYTES", DEFAULT_MAX_BYTES)
    if request.is_json and (request.content_length or 0) > limit:
        abort(413)


def refuse_nul_in_fields() -> None:
    """Before each request: NUL in a query or form field is never meant (and PostgreSQL
    cannot store it): 400 before any view sees it."""
    fields = [request.args]
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        fields.append(request.form)
    for multi in fields:
        for key, values in multi.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return _refusal()
    return None


# Server-to-server endpoints whose clients expect an RFC 6749 error object, not a page.
OAUTH_ENDPOINTS = frozenset({"oidc.token", "oidc.revoke", "oidc.userinfo"})


def _refusal():
    if request.endpoint in OAUTH_ENDPOINTS:
        return {"error": "invalid_request",
                "error_description": "a NUL character in a parameter"}, 400
    abort(400)


def init_app(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)
    app.before_request(refuse_oversized_json)
    app.before_request(refuse_nul_in_fields)


def json_object() -> dict:
    """The request's JSON body when it is an object, else an empty one (a list, a number
    or no JSON at all carries no named fields a view could read)."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}
