"""The bridge's HTTP server: pages, the card API and the card-event stream.

Routes (everything else is 404):

``GET /sign?origin=&nonce=&purpose=login|bind_staff``
    The bridge window.  Shows the requesting origin before any PIN entry;
    refuses origins that are not configured with a plain page.
``POST /api/login`` · ``POST /api/enroll``
    JSON, only from the bridge's own page (``Origin`` must be the bridge's,
    ``Content-Type`` JSON, and a grant token issued with the page).
``GET /events``
    Kiosk mode: Server-Sent Events ``inserted`` / ``removed`` ``{reader}``,
    CORS-readable by the configured origins only.
``GET /status``
    ``{bridge, version, kiosk}`` for configured origins (lets a portal see the bridge runs).
``GET /static/<file>``
    The page's script and style sheet (the CSP allows no inline code).

The server binds to loopback and refuses requests whose ``Host`` is not the
bridge itself (a DNS-rebinding page would send its own host name).
"""
from __future__ import annotations

import json
import logging
import queue
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .cardwork import BridgeFailure, CardDesk, app_version, failure, make_token, signed_data
from .config import DEFAULT_PORT, BridgeConfig, try_normalize_origin
from .events import CardEventHub
from .grants import GrantBook
from .pages import keyboard_markup, parse_query, pinpad_markup, render, static_file
from .version import VERSION

log = logging.getLogger("smartcard.bridge")

NONCE_RE = re.compile(r"^[A-Za-z0-9+/_=-]{16,128}$")
# What the auth-key signature is for: a sign-in, or a clerk binding their own card.
# Both sign the same origin-bound data; the portal tells them apart by its nonce.
PURPOSES = ("login", "bind_staff")
MAX_BODY = 4096
SSE_HEARTBEAT_S = 10.0
STATIC_FILES = {"sign.js": "text/javascript; charset=utf-8", "bridge.css": "text/css; charset=utf-8"}
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
COMMON_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class Bridge:
    """A running card bridge.

    >>> bridge = Bridge(["https://portal.example"], port=0).start()
    >>> bridge.url            # 'http://127.0.0.1:41234'
    >>> bridge.stop()

    ``origins``: the portal origins served; ``port`` 0 picks a free port;
    ``kiosk`` adds the on-screen PIN pad and ``/events``; ``reader`` pins one reader.
    """

    def __init__(self, origins, port: int = DEFAULT_PORT, kiosk: bool = False, reader: str | None = None,
                 *, host: str = "127.0.0.1", card_wait_s: float = 3.0, idle_s: int = 120) -> None:
        self.config = BridgeConfig(tuple(origins), port=port, kiosk=kiosk, reader=reader,
                                   card_wait_s=card_wait_s, idle_s=idle_s, host=host)
        self.desk = CardDesk(reader, card_wait_s)
        self.grants = GrantBook()
        self.hub = CardEventHub(reader) if kiosk else None
        self.stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_config(cls, config: BridgeConfig) -> "Bridge":
        return cls(config.origins, config.port, config.kiosk, config.reader, host=config.host,
                   card_wait_s=config.card_wait_s, idle_s=config.idle_s)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("bridge not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the bridge's origin, as the portal's CARD_BRIDGE_URL."""
        return f"http://{self.config.host}:{self.port}"

    @property
    def own_origins(self) -> frozenset[str]:
        return frozenset({f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}",
                          f"http://{self.config.host}:{self.port}"})

    def start(self) -> "Bridge":
        server = ThreadingHTTPServer((self.config.host, self.config.port), BridgeHandler)
        server.daemon_threads = True  # event streams must not hold up stop()
        server.bridge = self  # type: ignore[attr-defined]
        self._server = server
        if self.hub is not None:
            self.hub.start()
        self._thread = threading.Thread(target=server.serve_forever, name="card-bridge", daemon=True)
        self._thread.start()
        log.info("card bridge on %s for %s%s", self.url, ", ".join(self.config.origins),
                 " (kiosk)" if self.config.kiosk else "")
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self.hub is not None:
            self.hub.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.desk.close()

    def __enter__(self) -> "Bridge":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


# -- the handler ---------------------------------------------------------------------------------

class BridgeHandler(BaseHTTPRequestHandler):
    server_version = "madoguchi-bridge"

    def version_string(self) -> str:
        return self.server_version

    @property
    def bridge(self) -> Bridge:
        return self.server.bridge  # type: ignore[attr-defined]

    # Logs carry method, path (no query: it holds the nonce) and status; never a body.
    def log_request(self, code="-", size="-") -> None:
        log.info("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (BaseHTTPRequestHandler's name)
        log.debug("http: " + format, *args)

    # -- dispatch ----------------------------------------------------------------------------------

    def do_GET(self) -> None:
        if not self._host_ok():
            return
        path = urlsplit(self.path).path
        routes = {"/sign": self._sign_page, "/events": self._events, "/status": self._status, "/": self._index}
        if path in routes:
            routes[path]()
        elif path.startswith("/static/"):
            self._static_file(path.removeprefix("/static/"))
        else:
            self._plain(HTTPStatus.NOT_FOUND, "見つかりません / not found")

    def do_POST(self) -> None:
        if not self._host_ok():
            return
        path = urlsplit(self.path).path
        if path not in ("/api/login", "/api/enroll"):
            self._plain(HTTPStatus.NOT_FOUND, "見つかりません / not found")
            return
        body = self._own_page_json()
        if body is None:
            return
        try:
            token = self._api_login(body) if path == "/api/login" else self._api_enroll(body)
        except BridgeFailure as refused:
            self._json(refused.status, {"error": refused.as_json()})
            return
        self._json(HTTPStatus.OK, {"token": token})

    def do_OPTIONS(self) -> None:
        """CORS preflight for ``/events`` and ``/status`` (Chrome's private-network check sends one)."""
        if not self._host_ok():
            return
        origin = self.headers.get("Origin")
        if urlsplit(self.path).path not in ("/events", "/status") or not self.bridge.config.allows(origin):
            self._plain(HTTPStatus.FORBIDDEN, "許可されていません / forbidden")
            return
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors_headers(origin)
        self.send_header("Access-Control-Allow-Methods", "GET")
        self.send_header("Access-Control-Allow-Private-Network", "true")
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_PUT(self) -> None:
        self._plain(HTTPStatus.METHOD_NOT_ALLOWED, "許可されていません / method not allowed")

    do_DELETE = do_PATCH = do_PUT

    # -- guards ------------------------------------------------------------------------------------

    def _host_ok(self) -> bool:
        """Only requests addressed to the bridge itself, from this machine."""
        host = (self.headers.get("Host") or "").lower()
        wanted = {f"127.0.0.1:{self.bridge.port}", f"localhost:{self.bridge.port}",
                  f"{self.bridge.config.host}:{self.bridge.port}"}
        if host not in wanted or not self.client_address[0].startswith("127."):
            self._plain(HTTPStatus.BAD_REQUEST, "このアプリはこのパソコン内からのみ利用できます / bad host")
            return False
        return True

    def _own_page_json(self) -> dict | None:
        """The JSON body of a request made by the bridge's own page, or None (already answered)."""
        if self.headers.get("Origin") not in self.bridge.own_origins:
            self._json(HTTPStatus.FORBIDDEN, {"error": {"code": "forbidden_origin",
                                                       "message": "このページからは利用できません。",
                                                       "message_en": "requests only from the bridge's own page"}})
            return None
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": {"code": "bad_request"}})
            return None
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": {"code": "bad_request"}})
            return None
        try:
            body = json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            self._json(HTTPStatus.BAD_REQUEST, {"error": {"code": "bad_request"}})
            return None
        return body

    # -- the card API ------------------------------------------------------------------------------

    def _grant(self, body: dict):
        grant = self.bridge.grants.use(body.get("grant"))
        if grant is None:
            raise BridgeFailure("expired", "この画面の有効期限が切れました。元の画面からやり直してください。",
                                "This window has expired. Start again from the portal.", False, None, 403)
        return grant

    def _api_login(self, body: dict) -> dict:
        grant = self._grant(body)
        pin = body.get("pin")
        if not isinstance(pin, str):
            raise failure("invalid_pin", status=400)
        result = self.bridge.desk.login(pin, signed_data(grant.origin, grant.nonce))
        grant.logged_in = True
        log.info("login token made for %s", grant.origin)
        return make_token(result)

    def _api_enroll(self, body: dict) -> dict:
        grant = self._grant(body)
        password, nonce = body.get("password"), body.get("nonce")
        if not grant.logged_in:
            raise BridgeFailure("not_logged_in", "先に暗証番号での本人確認をしてください。",
                                "Sign in with the PIN first.", False, None, 409)
        if not isinstance(nonce, str) or not NONCE_RE.match(nonce):
            raise BridgeFailure("bad_request", "ポータルからの要求が正しくありません。",
                                "The portal's request is malformed.", False, None, 400)
        if not isinstance(password, str):
            raise failure("invalid_password", status=400)
        result = self.bridge.desk.enroll(password, signed_data(grant.origin, nonce))
        log.info("enrollment token made for %s", grant.origin)
        return make_token(result)

    # -- pages ---------------------------------------------------------------------------------------

    def _index(self) -> None:
        self._plain(HTTPStatus.OK, "マイナンバーカード連携アプリが動作しています / madoguchi card bridge is running")

    def _sign_page(self) -> None:
        params = parse_query(urlsplit(self.path).query)
        origin = try_normalize_origin(params.get("origin", ""))
        if origin is None or origin not in self.bridge.config.origins or params.get("origin") != origin:
            log.warning("refused a sign request from an unconfigured origin")
            self._html(HTTPStatus.FORBIDDEN, render("refused.html", origin=params.get("origin", "")[:200]))
            return
        nonce, purpose = params.get("nonce", ""), params.get("purpose", "login")
        if not NONCE_RE.match(nonce) or purpose not in PURPOSES:
            self._html(HTTPStatus.BAD_REQUEST, render("bad_request.html"))
            return
        grant = self.bridge.grants.issue(origin, nonce, purpose)
        kiosk = self.bridge.config.kiosk
        self._html(HTTPStatus.OK, render(
            "sign.html", origin=origin, host=urlsplit(origin).hostname or origin, purpose=purpose,
            grant=grant, kiosk="1" if kiosk else "0", idle=str(self.bridge.config.idle_s),
            body_class="kiosk" if kiosk else "home", pin_mode="readonly" if kiosk else "",
            raw_pinpad=pinpad_markup() if kiosk else "", raw_keyboard=keyboard_markup() if kiosk else ""))

    def _static_file(self, name: str) -> None:
        if name not in STATIC_FILES:
            self._plain(HTTPStatus.NOT_FOUND, "見つかりません / not found")
            return
        self._send(HTTPStatus.OK, static_file(name), STATIC_FILES[name])

    def _status(self) -> None:
        origin = self.headers.get("Origin")
        if origin is not None and not self.bridge.config.allows(origin) and origin not in self.bridge.own_origins:
            self._plain(HTTPStatus.FORBIDDEN, "許可されていません / forbidden")
            return
        payload = json.dumps({"bridge": app_version(), "version": VERSION,
                              "kiosk": self.bridge.config.kiosk}).encode()
        self._send(HTTPStatus.OK, payload, "application/json", cors=origin)

    # -- events --------------------------------------------------------------------------------------

    def _events(self) -> None:
        origin = self.headers.get("Origin")
        hub = self.bridge.hub
        if hub is None:
            self._plain(HTTPStatus.NOT_FOUND, "キオスクモードではありません / not in kiosk mode")
            return
        if origin is not None and origin not in self.bridge.own_origins and not self.bridge.config.allows(origin):
            self._plain(HTTPStatus.FORBIDDEN, "許可されていません / forbidden")
            return
        subscriber = hub.subscribe()
        if subscriber is None:
            self._plain(HTTPStatus.SERVICE_UNAVAILABLE, "接続が多すぎます / too many listeners")
            return
        try:
            self._stream(subscriber, origin)
        except OSError:  # the page went away
            pass
        finally:
            hub.unsubscribe(subscriber)

    def _stream(self, subscriber: queue.Queue, origin: str | None) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Accel-Buffering", "no")
        self._cors_headers(origin)
        self.end_headers()
        self._event("state", {"present": self.bridge.hub.present()}, retry_ms=1000)
        while not self.bridge.stopping.is_set():
            try:
                event = subscriber.get(timeout=SSE_HEARTBEAT_S)
            except queue.Empty:
                self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
                continue
            if event is None:
                return
            self._event(event.kind, {"reader": event.reader})

    def _event(self, name: str, data: dict, retry_ms: int | None = None) -> None:
        text = f"retry: {retry_ms}\n" if retry_ms else ""
        text += f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        self.wfile.write(text.encode("utf-8"))
        self.wfile.flush()

    # -- responses -----------------------------------------------------------------------------------

    def _cors_headers(self, origin: str | None) -> None:
        if origin is not None and self.bridge.config.allows(origin):
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")

    def _send(self, status: int, payload: bytes, content_type: str, *, cors: str | None = None,
              page: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in COMMON_HEADERS.items():
            self.send_header(name, value)
        if page:
            self.send_header("Content-Security-Policy", PAGE_CSP)
        self._cors_headers(cors)
        self.end_headers()
        self.wfile.write(payload)

    def _html(self, status: int, payload: bytes) -> None:
        self._send(status, payload, "text/html; charset=utf-8", page=True)

    def _plain(self, status: int, text: str) -> None:
        self._send(status, (text + "\n").encode("utf-8"), "text/plain; charset=utf-8", page=True)

    def _json(self, status: int, data: dict) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json")
