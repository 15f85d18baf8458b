"""Headers every response carries. Personal data must not linger in caches or frames."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self' {bridge}; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")


class KioskStrictSessions(SecureCookieSessionInterface):
    """The session cookie is SameSite=Lax for single sign-on from partners, but a kiosk's
    stays Strict: a shared terminal never follows another site's link into a session."""

    def get_cookie_samesite(self, app: Flask) -> str | None:
        if session.get("kiosk") or session.get("kiosk_id"):
            return "Strict"
        return super().get_cookie_samesite(app)


def init_app(app: Flask) -> None:
    hsts = f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
    # Pages talk to the local card bridge (status, card events): the deployment's and each
    # kiosk's own.
    bridges = [app.config["CARD_BRIDGE_URL"]] + [
        k["bridge"] for k in app.config.get("KIOSKS", {}).values() if k.get("bridge")]
    origins = dict.fromkeys(f"{p.scheme}://{p.netloc}" for p in map(urlsplit, bridges))
    csp = CSP.format(bridge=" ".join(origins))

    @app.after_request
    def _headers(response):
        response.headers["Content-Security-Policy"] = csp
        response.headers["Strict-Transport-Security"] = hsts
        response.headers["X-Content-Type-Options"] = "nosniff"
        # same-origin: nothing leaks to other sites, and CSRF checks of HTTPS posts can
        # compare the Referer with this host.
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if not request.path.startswith("/static/"):
            # Any page may carry a resident's data; a kiosk's back button must show nothing.
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response
