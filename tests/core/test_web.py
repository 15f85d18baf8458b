"""Headers, CSRF, languages and error pages: what every page promises."""
import re

import pytest
from sqlalchemy.exc import OperationalError


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_personal_pages_are_not_cached(client, sign_in_as, make_city, make_resident):
    sign_in_as(make_resident(make_city()))
    for path in ("/me/", "/me/access-log/"):
        assert client.get(path).headers["Cache-Control"] == "no-store"


def test_no_inline_script_or_style_in_pages(client, sign_in_as, make_city, make_resident):
    sign_in_as(make_resident(make_city()))
    for path in ("/", "/me/", "/me/access-log/", "/staff/login"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html, path


def test_assets_are_served_locally(client):
    html = client.get("/").get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert client.get("/static/css/portal.css").status_code == 200


def test_post_without_csrf_token_is_refused_in_japanese(client):
    response = client.post("/staff/login", data={"municipality_code": "392049",
                                                 "username": "a", "password": "b"})
    assert response.status_code == 400
    assert "有効期限" in response.get_data(as_text=True)


def test_session_cookie_is_secure_httponly_lax(client, sign_in_as, make_city, make_resident):
    sign_in_as(make_resident(make_city()))
    cookie = client.get("/me/").headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_kiosk_session_cookie_stays_strict(app, client, sign_in_as, make_city, make_resident):
    app.config["KIOSKS"] = {"nankoku-chuo": {"municipality": "392049", "name": "南国市立中央公民館"}}
    sign_in_as(make_resident(make_city()), kiosk=True)
    with client.session_transaction() as sess:
        sess["kiosk_id"] = "nankoku-chuo"
    cookie = client.get("/me/").headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_not_found_is_a_japanese_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.get_data(as_text=True)


def test_english_is_available(client):
    response = client.get("/lang/en?next=/")
    assert response.status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in html and "Welcome" in html


def test_language_switch_never_redirects_off_site(client):
    assert client.get("/lang/en?next=//evil.example/").headers["Location"] == "/"


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "/\t/evil.example/",
                                    "/\n/evil.example/", "https://evil.example/"])
def test_no_next_parameter_leaves_the_site(client, target):
    """Browsers drop tabs and newlines and read backslashes as slashes: none of these may
    become a redirect to another site, nor a 500."""
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_unexpected_error_shows_no_traceback(app, client, sign_in_as, make_city, make_resident,
                                             monkeypatch):
    import portal.residents.views as views
    sign_in_as(make_resident(make_city()))
    monkeypatch.setattr(views, "self_and_children", lambda *a, **k: 1 / 0)
    response = client.get("/me/")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "システムエラー" in body and "Traceback" not in body and "ZeroDivision" not in body


def test_database_gone_is_a_plain_503(app, client, sign_in_as, make_city, make_resident,
                                      monkeypatch):
    import portal.residents.views as views
    sign_in_as(make_resident(make_city()))

    def gone(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    monkeypatch.setattr(views, "self_and_children", gone)
    response = client.get("/me/")
    assert response.status_code == 503
    assert "ただいまサービスを利用できません" in response.get_data(as_text=True)


def test_json_clients_get_json_errors(client):
    response = client.get("/no/such", headers={"Accept": "application/json"})
    assert response.status_code == 404 and "error" in response.get_json()


def test_health_check(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_development_sign_in_does_not_exist_in_production(client):
    assert client.get("/dev/sign-in").status_code == 404


def test_links_for_a_list_are_the_urls_url_for_builds(app):
    """links_to builds one URL and joins ids into it; every link must still be url_for's."""
    from flask import url_for
    from portal.web.links import links_to
    with app.test_request_context("/", base_url="https://localhost/portal"):
        link = links_to("registry.resident", "resident_id")
        for resident_id in (0, 1, 42, 987654321, 10 ** 20):
            assert link(resident_id) == url_for("registry.resident", resident_id=resident_id)
        external = links_to("registry.resident", "resident_id", _external=True, tab="x")
        assert external(7) == url_for("registry.resident", resident_id=7, _external=True, tab="x")
        assert external(7) == "https://localhost/portal/registry/residents/7?tab=x"
        assert link("7") == url_for("registry.resident", resident_id="7")  # left to url_for
