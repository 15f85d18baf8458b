"""Error pages in the viewer's language. A resident never sees a traceback."""
from __future__ import annotations

import time

from flask import Flask, render_template, request
from flask_limiter import RateLimitExceeded
from portal.web.i18n import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, InterfaceError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from portal.fonts import FontMissing

MESSAGES = {
    400: ("リクエストが正しくありません", "入力内容をご確認のうえ、もう一度お試しください。"),
    403: ("このページを表示する権限がありません", "必要な場合は窓口にお問い合わせください。"),
    404: ("ページが見つかりません", "アドレスをご確認ください。"),
    405: ("この操作はできません", "トップページからやり直してください。"),
    413: ("ファイルが大きすぎます", "小さいファイルでお試しください。"),
    429: ("操作が多すぎます", "しばらく待ってから、もう一度お試しください。"),
    500: ("システムエラーが発生しました", "お手数ですが、しばらくしてからもう一度お試しください。"),
    503: ("ただいまサービスを利用できません", "しばらくしてからもう一度お試しください。入力中の内容は保存されていません。"),
}


def error_code(status: int) -> str:
    """'too_many_requests' for 429: HTTP's own name of the status, as a code."""
    return HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "_").replace("-", "_")


def render_error(status: int, detail: str | None = None):
    title, hint = MESSAGES.get(status, MESSAGES[500])
    # fetch() from the portal's own scripts posts JSON and accepts anything: answer in kind.
    # `error` is a stable code, `message` the text to show (the terminal API's Problem shape).
    # Machine APIs (any path with /api/) answer JSON whatever the client accepts.
    if (request.is_json or request.accept_mimetypes.best == "application/json"
            or "/api/" in request.path):
        return {"error": error_code(status), "message": _(title), "detail": detail or _(hint)}, status
    return render_template("error.html", status=status, title=_(title),
                           hint=detail or _(hint)), status


def retry_after() -> str:
    """Seconds until the limit that refused this request lets it through (RFC 9110
    Retry-After), from the limiter's own record of the limits it evaluated."""
    from portal.extensions import limiter
    refused = limiter.current_limit
    if refused is None:
        return "60"
    return str(max(1, int(refused.reset_at - time.time())))   # as Flask-Limiter counts it


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_e):
        return render_error(400, _("画面の有効期限が切れました。ページを読み込み直してから、もう一度お試しください。"))

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        body, status = render_error(e.code or 500)
        # 405 names the methods that would do (RFC 9110); werkzeug's own page did, ours must.
        if isinstance(e, MethodNotAllowed):
            return body, status, {"Allow": dict(e.get_headers())["Allow"]}
        if isinstance(e, RateLimitExceeded):
            return body, status, {"Retry-After": retry_after()}
        return body, status

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_gone(e):
        app.logger.error("database unavailable: %s", e)
        return render_error(503)

    @app.errorhandler(FontMissing)
    def _no_font(e):
        app.logger.error("cannot make a PDF: %s", e)
        return render_error(503, _("PDFを作成できません。日本語フォントが設定されていないため、"
                                   "管理者にお知らせください。"))

    @app.errorhandler(Exception)
    def _unexpected(e):
        app.logger.exception("unhandled error")
        return render_error(500)
