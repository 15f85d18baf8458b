"""Madoguchi (窓口): the resident-services portal. `create_app` is the only entry point."""
from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from portal.config import ConfigError, is_development, load_config

__all__ = ["create_app", "ConfigError"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the portal. Layers: defaults → MADOGUCHI_CONFIG file → MADOGUCHI_* → `config`."""
    settings = load_config(config)
    from portal.web.app import Portal, close_request_unit
    app = Portal(__name__, instance_relative_config=True, instance_path=_instance_path(settings))
    app.config.update(settings)
    _development_defaults(app)
    _cookie_policy(app)

    from portal import extensions, models  # noqa: F401  (models register their tables)
    extensions.init_app(app)

    from portal.web import bodies, errors, i18n, labels, links, proxy, security
    proxy.init_app(app)
    bodies.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    links.init_app(app)
    security.init_app(app)
    errors.init_app(app)

    from portal.auth import load_viewer
    app.before_request(load_viewer)
    app.teardown_request(close_request_unit)

    _register_blueprints(app)
    from portal.services_host import init_services
    init_services(app)
    return app


def _instance_path(settings: Mapping[str, Any]) -> str | None:
    """Where the embedded database, the demo PKI and the demo cards live: `INSTANCE_PATH`,
    else Flask's default (`instance/` beside the source tree)."""
    path = settings.get("INSTANCE_PATH")
    return str(Path(path).resolve()) if path else None


def _development_defaults(app: Flask) -> None:
    """Development mode may run without settings; it says so loudly and uses SQLite."""
    if not is_development(app.config):
        return
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        app.logger.warning("development mode: random SECRET_KEY; sessions end at restart")
    if not app.config.get("DATABASE_URL"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'madoguchi.sqlite'}"


def _cookie_policy(app: Flask) -> None:
    secure = not is_development(app.config)
    app.config.update(
        # __Host- pins the cookie to this origin over HTTPS; development runs on plain http.
        SESSION_COOKIE_NAME="__Host-madoguchi" if secure else "madoguchi",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        # Lax: a link from a partner's site to /oidc/authorize carries the resident's session
        # (single sign-on); every state-changing request still needs a CSRF token, and a
        # cross-site POST carries no cookie. Kiosks stay Strict (KioskStrictSessions).
        SESSION_COOKIE_SAMESITE="Lax",
        # The server ends a session when it is idle (last_seen) or too old; the cookie only
        # has to outlive that, so it is signed again only when its content changes, not on
        # every response.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"]),
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=app.config.get("MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
    )
    from portal.web.security import KioskStrictSessions
    app.session_interface = KioskStrictSessions()


def _register_blueprints(app: Flask) -> None:
    from portal.audit.views import bp as audit_bp
    from portal.cards.bridge_help import bp as card_bridge_bp
    from portal.cards.views import bp as cards_bp
    from portal.kiosk.views import bp as kiosk_bp
    from portal.oidc.views import bp as oidc_bp
    from portal.sessions.views import bp as sessions_bp
    from portal.operator.views import bp as operator_bp
    from portal.public.views import bp as public_bp
    from portal.registry.views import bp as registry_bp
    from portal.residents.views import bp as residents_bp
    from portal.staff.views import bp as staff_bp
    from portal.tenancy.views import bp as tenancy_bp
    for bp in (public_bp, residents_bp, audit_bp, staff_bp, registry_bp, operator_bp, cards_bp,
               card_bridge_bp, sessions_bp, kiosk_bp, oidc_bp, tenancy_bp):
        app.register_blueprint(bp)
