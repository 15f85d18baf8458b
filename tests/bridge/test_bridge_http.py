"""The bridge as a web app: who may talk to it and what its pages show.  No card involved."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from madoguchi_smartcard.bridge.cli import bridge as bridge_command, build_config
from madoguchi_smartcard.bridge.config import BridgeConfig, ConfigError, normalize_origin
from madoguchi_smartcard.bridge.server import Bridge
from madoguchi_smartcard.bridge.version import VERSION
from tests.bridge.conftest import LOCAL_PORTAL, NONCE, PORTAL, BridgeClient

EVIL = "https://portal.example.lg.jp.evil.example"


# -- loopback only --------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.10.5", "::", "portal.example.lg.jp"])
def test_refuses_to_listen_beyond_loopback(host):
    with pytest.raises(ConfigError, match="127.0.0.1"):
        Bridge([PORTAL], port=0, host=host)


def _non_loopback_address() -> str | None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: only picks the outgoing interface
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def test_listens_on_loopback_only(bridge):
    assert bridge._server.server_address[0] == "127.0.0.1"
    assert bridge.url == f"http://127.0.0.1:{bridge.port}"
    address = _non_loopback_address()
    if address is not None:  # the machine's own LAN address must not reach the bridge
        with pytest.raises(OSError):
            socket.create_connection((address, bridge.port), timeout=2).close()


def test_requests_for_another_host_name_are_refused(bridge_client):
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: its Host header gives it away."""
    answer = bridge_client.request("GET", f"/sign?origin={PORTAL}&nonce={NONCE}",
                                   host=f"rebind.evil.example:{bridge_client.bridge.port}")
    assert answer.status == 400
    assert "data-grant" not in answer.text
    assert bridge_client.request("GET", "/", host=f"localhost:{bridge_client.bridge.port}").status == 200


# -- origins -----------------------------------------------------------------------------------

@pytest.mark.parametrize("given, normal", [
    ("https://Portal.Example.LG.JP", "https://portal.example.lg.jp"),
    ("https://portal.example.lg.jp:443/", "https://portal.example.lg.jp"),
    ("https://portal.example.lg.jp:8443", "https://portal.example.lg.jp:8443"),
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ("http://localhost:80", "http://localhost"),
])
def test_origins_are_compared_in_one_normal_form(given, normal):
    assert normalize_origin(given) == normal


@pytest.mark.parametrize("bad", ["http://portal.example.lg.jp", "https://portal.example.lg.jp/login",
                                 "ftp://portal.example.lg.jp", "portal.example.lg.jp", "https://",
                                 "https://user@portal.example.lg.jp"])
def test_unsafe_or_malformed_origins_are_refused_in_the_configuration(bad):
    with pytest.raises(ConfigError):
        BridgeConfig((bad,))


def test_a_bridge_needs_at_least_one_origin():
    with pytest.raises(ConfigError):
        BridgeConfig(())


def test_sign_page_refuses_an_origin_it_is_not_configured_for(bridge_client):
    answer = bridge_client.sign_page(origin=EVIL)
    assert answer.status == 403
    assert "応じられません" in answer.text and "暗証番号を入力しないでください" in answer.text
    assert 'id="pin"' not in answer.text and "data-grant" not in answer.text
    assert EVIL in answer.text  # the resident sees who asked


@pytest.mark.parametrize("variant", [PORTAL + "/", PORTAL + "/auth/login", PORTAL.upper(), PORTAL + ":443"])
def test_sign_page_takes_only_the_exact_origin(bridge_client, variant):
    """The portal checks the signature over the exact origin string: the bridge signs no other."""
    assert bridge_client.sign_page(origin=variant).status == 403


def test_refused_origin_is_escaped(bridge_client):
    answer = bridge_client.request("GET", '/sign?origin=https://x"><script>alert(1)</script>&nonce=' + NONCE)
    assert answer.status == 403
    assert "<script>alert" not in answer.text and "&lt;script&gt;" in answer.text


@pytest.mark.parametrize("nonce, purpose", [("short", "login"), ("a" * 200, "login"),
                                            ("abc<def>ghijklmnopqrstu", "login"), (NONCE, "pay")])
def test_malformed_requests_get_a_plain_page(bridge_client, nonce, purpose):
    answer = bridge_client.sign_page(nonce=nonce, purpose=purpose)
    assert answer.status == 400
    assert "要求が正しくありません" in answer.text and "data-grant" not in answer.text


# -- the sign page ------------------------------------------------------------------------------

def test_sign_page_shows_the_origin_before_any_pin_entry(bridge_client):
    answer = bridge_client.sign_page(origin=PORTAL)
    assert answer.status == 200
    html = answer.text
    origin_step = re.search(r'<section id="step-origin" class="step">(.*?)</section>', html, re.S).group(1)
    pin_step = re.search(r'<section id="step-pin" class="step" hidden>(.*?)</section>', html, re.S).group(1)
    assert "portal.example.lg.jp" in origin_step and PORTAL in origin_step
    assert "<input" not in origin_step  # nothing to type until the resident confirmed the origin
    assert 'id="pin"' in pin_step and 'type="password"' in pin_step
    assert html.index("step-origin") < html.index("step-pin")


def test_pages_carry_a_strict_csp_and_no_inline_code(bridge_client):
    answer = bridge_client.sign_page()
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-frame-options"] == "DENY"
    assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text)
    assert not re.search(r"\sstyle=|<style|\son[a-z]+=", answer.text)


def test_home_mode_has_no_pin_pad_and_kiosk_mode_has_one(make_bridge):
    home = BridgeClient(make_bridge()).sign_page().text
    kiosk = BridgeClient(make_bridge(kiosk=True)).sign_page().text
    assert 'id="pinpad"' not in home and 'data-kiosk="0"' in home
    assert 'id="pinpad"' in kiosk and 'data-kiosk="1"' in kiosk
    assert all(f'data-key="{d}"' in kiosk for d in "0123456789")
    assert re.search(r'id="pin"[^>]*readonly', kiosk)  # the pad, not a keyboard
    assert 'id="keyboard"' in kiosk and all(f'data-key="{c}"' in kiosk for c in "AZ09")  # signing password
    assert 'id="keyboard"' not in home


def test_a_clerk_binding_their_card_gets_the_same_page(bridge_client):
    answer = bridge_client.sign_page(purpose="bind_staff")
    assert answer.status == 200 and 'data-purpose="bind_staff"' in answer.text


def test_every_page_gets_its_own_grant(bridge_client):
    assert bridge_client.grant() != bridge_client.grant()


def test_static_files_are_served_and_nothing_else(bridge_client):
    script = bridge_client.request("GET", "/static/sign.js")
    assert script.status == 200 and script.headers["content-type"].startswith("text/javascript")
    posts = re.findall(r"postMessage\(([^;]*)\);", script.text)
    assert posts and all(args.endswith(", origin") for args in posts)  # only to the confirmed origin
    assert '"*"' not in script.text
    assert bridge_client.request("GET", "/static/bridge.css").status == 200
    for path in ("/static/../server.py", "/static/server.py", "/static/%2e%2e/config.py", "/admin"):
        assert bridge_client.request("GET", path).status == 404


# -- the API: only from the bridge's own page -------------------------------------------------------

@pytest.mark.parametrize("origin", [PORTAL, LOCAL_PORTAL, EVIL, "null", ""])
def test_card_api_refuses_requests_not_from_its_own_page(bridge_client, origin):
    grant = bridge_client.grant()
    for path in ("/api/login", "/api/enroll"):
        answer = bridge_client.api(path, {"grant": grant, "pin": "0000"}, origin=origin)
        assert answer.status == 403
        assert answer.json()["error"]["code"] == "forbidden_origin"


def test_card_api_wants_json(bridge_client):
    grant = bridge_client.grant()
    answer = bridge_client.api("/api/login", {"grant": grant, "pin": "0000"}, content_type="text/plain")
    assert answer.status == 415


@pytest.mark.parametrize("grant", ["made-up", "", None, 42])
def test_card_api_wants_a_grant_issued_with_the_page(bridge_client, grant):
    answer = bridge_client.api("/api/login", {"grant": grant, "pin": "0000"})
    assert answer.status == 403
    body = answer.json()["error"]
    assert body["code"] == "expired" and "やり直して" in body["message"]


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "１２３４", 1234, None])
def test_a_malformed_pin_never_reaches_the_card(bridge_client, pin):
    grant = bridge_client.grant()
    answer = bridge_client.api("/api/login", {"grant": grant, "pin": pin})
    assert answer.status == 400
    assert answer.json()["error"]["code"] == "invalid_pin"
    assert "数字4桁" in answer.json()["error"]["message"]


def test_oversized_bodies_are_refused(bridge_client):
    answer = bridge_client.api("/api/login", {"grant": bridge_client.grant(), "pin": "1" * 5000})
    assert answer.status == 413


# -- events and status ------------------------------------------------------------------------------

def test_no_event_stream_at_home(bridge_client):
    assert bridge_client.request("GET", "/events", headers={"Origin": PORTAL}).status == 404


def test_event_stream_refuses_unconfigured_origins(make_bridge):
    kiosk = BridgeClient(make_bridge(kiosk=True))
    answer = kiosk.request("GET", "/events", headers={"Origin": EVIL})
    assert answer.status == 403
    assert "access-control-allow-origin" not in answer.headers
    preflight = kiosk.request("OPTIONS", "/events", headers={"Origin": EVIL})
    assert preflight.status == 403


def test_preflight_for_a_configured_origin_allows_the_private_network(make_bridge):
    kiosk = BridgeClient(make_bridge(kiosk=True))
    answer = kiosk.request("OPTIONS", "/events", headers={"Origin": PORTAL,
                                                          "Access-Control-Request-Private-Network": "true"})
    assert answer.status == 204
    assert answer.headers["access-control-allow-origin"] == PORTAL
    assert answer.headers["access-control-allow-private-network"] == "true"


def test_status_is_readable_by_configured_origins_only(bridge_client):
    ok = bridge_client.request("GET", "/status", headers={"Origin": PORTAL})
    assert ok.status == 200 and ok.headers["access-control-allow-origin"] == PORTAL
    assert ok.json()["kiosk"] is False and ok.json()["bridge"].startswith("madoguchi-bridge/")
    assert ok.json()["version"] == VERSION  # the portal compares it with its lowest accepted
    assert bridge_client.request("GET", "/status", headers={"Origin": EVIL}).status == 403


# -- command line --------------------------------------------------------------------------------------

def test_options_override_the_configuration_file(tmp_path: Path):
    path = tmp_path / "kiosk.toml"
    path.write_text('origins = ["https://portal.example.lg.jp"]\nkiosk = true\nport = 35990\n'
                    'reader = "Virtual PCD 00 00"\nidle_s = 60\n', encoding="utf-8")
    config = build_config(path, (), None, None, None, None)
    assert config == BridgeConfig(("https://portal.example.lg.jp",), port=35990, kiosk=True,
                                  reader="Virtual PCD 00 00", idle_s=60)
    overridden = build_config(path, ("http://127.0.0.1:5000",), 0, False, None, 30)
    assert overridden.origins == ("http://127.0.0.1:5000",) and overridden.port == 0
    assert overridden.kiosk is False and overridden.idle_s == 30


def test_unknown_settings_are_refused(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text('origins = ["https://portal.example.lg.jp"]\nhost = "0.0.0.0"\n', encoding="utf-8")
    result = CliRunner().invoke(bridge_command, ["--config", str(path)])
    assert result.exit_code != 0 and "host" in result.output


def test_command_refuses_a_plain_http_portal_on_the_network():
    result = CliRunner().invoke(bridge_command, ["--origin", "http://portal.example.lg.jp", "--port", "0"])
    assert result.exit_code == 2
    assert "http のオリジンはこのパソコン内のみ" in result.output


def test_the_command_serves_until_stopped(tmp_path: Path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-c", "from madoguchi_smartcard.bridge.cli import bridge; bridge()", "--origin", PORTAL,
         "--port", str(port), "--kiosk"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    try:
        status = None
        deadline = time.monotonic() + 15
        while status is None and time.monotonic() < deadline:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/status", headers={"Origin": PORTAL})
                status = urllib.request.urlopen(request, timeout=2).read()
            except OSError:
                time.sleep(0.2)
        assert status is not None and b'"kiosk": true' in status
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert f"http://127.0.0.1:{port}" in out and "停止しました" in out
