"""Behind the operator's reverse proxy: whose address a request comes from, and what the
production server's access log may say about it.

`MADOGUCHI_TRUSTED_PROXIES` counts the proxies in front of the portal. With N > 0,
werkzeug's ProxyFix takes the client's address and scheme from the last N entries of
X-Forwarded-For / X-Forwarded-Proto, so the rate limits, the sign-in records and the access
log see the resident, not the proxy. With 0 (the default) those headers are ignored: a
client talking to the portal directly cannot forge its way out of a rate limit.
"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

# WSGI environ key naming the matched route's pattern; gunicorn's access log prints it as
# %({madoguchi.route}e)s instead of the path (see portal/gunicorn.conf.py).
ROUTE_KEY = "madoguchi.route"
UNMATCHED = "-"


def init_app(app: Flask) -> None:
    trusted = app.config["TRUSTED_PROXIES"]
    if trusted:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted)
    # First of the before_request functions: runs even when a later one answers early.
    app.before_request_funcs.setdefault(None, []).insert(0, _name_route)


def _name_route() -> None:
    """Log the route's pattern (/services/maternal_health/children/<int:child_id>), never the
    path: a path holds a child's or a certificate's id, which beside an address is personal."""
    rule = request.url_rule
    request.environ[ROUTE_KEY] = rule.rule if rule is not None else UNMATCHED
