"""The OpenAPI document, the public verification page, staff revocation, log and
reconciliation."""
from __future__ import annotations

import re
from datetime import date

import pytest
from openapi_spec_validator import validate
from sqlalchemy import select

from portal.api import Municipality
from services.convenience_issuance.models import IssuedCertificate
from tests.convenience_issuance.conftest import API

PREFIX = "/services/convenience_issuance"


def test_openapi_document_is_valid_and_covers_every_api_route(app, client, city):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    routes = {(rule.rule[len(PREFIX):], method) for rule in app.url_map.iter_rules()
              if rule.rule.startswith(f"{PREFIX}/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes, "no API routes found"
    assert routes == documented


def test_api_needs_no_browser_session_and_no_csrf(client, city, clock):
    # no sign-in, no CSRF token: the core lets the terminal through, the view answers JSON
    response = client.post(f"{API}/sessions/challenge", json={"municipality": city.code, "terminal_id": "t-1"})
    assert response.status_code == 200 and response.get_json()["nonce"]


def issued_code(terminal, card) -> str:
    terminal.start(card)
    terminal.quote("juminhyo")
    return terminal.pay("verify-key-01", 200).get_json()["certificate"]["verification_code"]


def test_verification_page_confirms_a_code(client, terminal, hanako, bind_card):
    code = issued_code(terminal, bind_card(hanako))
    page = client.get(f"{PREFIX}/verify", query_string={"code": code.lower().replace("-", " ")})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "南国市が交付したもの" in html and "住民票の写し" in html and "高＊" in html
    assert "2026年7月1日" in html
    assert "花子" not in html and hanako.address not in html
    english = client.get(f"{PREFIX}/verify", query_string={"code": code, "lang": "en"}).get_data(as_text=True)
    assert "2026/7/1" in english and "2026年" not in english    # the date in the reader's language


@pytest.mark.parametrize("lang, nankoku", [("ja", "南国市"), ("en", "Nankoku")])
def test_the_terminal_names_the_cities_in_the_pages_language(client, make_city, lang, nankoku):
    """The terminal's list of cities (whose names the holder line repeats) in the page's
    language; a city without an English name keeps its own."""
    make_city("392049", "南国市", name_en="Nankoku")
    make_city("392111", "香南市")
    html = client.get(f"{PREFIX}/terminal", query_string={"lang": lang}).get_data(as_text=True)
    options = dict(re.findall(r'<option value="(\d{6})"[^>]*>([^<]*)</option>', html))
    assert options == {"392049": nankoku, "392111": "香南市"}


# page language, the city's English name, the name the page's sentences show
CITY_NAMES = [("ja", "Nankoku", "南国市"), ("en", "Nankoku", "Nankoku"), ("en", "", "南国市")]


def name_city(db, city, name_en: str) -> None:
    with db.transaction() as s:
        s.get(Municipality, city.id).name_en = name_en


@pytest.mark.parametrize("lang, name_en, shown", CITY_NAMES)
def test_the_service_page_names_the_city_in_its_language(client, sign_in_as, hanako, city, db,
                                                         lang, name_en, shown):
    name_city(db, city, name_en)
    sign_in_as(hanako)
    html = client.get(f"{PREFIX}/", query_string={"lang": lang}).get_data(as_text=True)
    sentence = {"ja": "{}で取得できる証明書", "en": "Certificates available from {}"}[lang]
    assert f"<h2>{sentence.format(shown)}</h2>" in html


@pytest.mark.parametrize("lang, name_en, shown", CITY_NAMES)
def test_the_verification_page_names_the_issuing_city_in_its_language(
        client, terminal, hanako, bind_card, city, db, lang, name_en, shown):
    name_city(db, city, name_en)
    code = issued_code(terminal, bind_card(hanako))
    html = client.get(f"{PREFIX}/verify", query_string={"code": code, "lang": lang}).get_data(as_text=True)
    result = html[html.index('id="verification-result"'):html.index("</section>")]
    sentence = {"ja": "この証明書は{}が交付したものです。", "en": "This certificate was issued by {}."}[lang]
    assert sentence.format(shown) in result
    assert ("南国市" in result) == (shown == "南国市")


def test_verification_page_says_unknown_code(client, city):
    html = client.get(f"{PREFIX}/verify", query_string={"code": "AAAA-BBBB-CCCC-DDDD"}).get_data(as_text=True)
    assert "見つかりません" in html


def test_verification_page_is_rate_limited(app, client, city):
    app.config["CONVENIENCE_VERIFY_RATE_LIMIT"] = "3/minute"
    codes = [client.get(f"{PREFIX}/verify", query_string={"code": "AAAA"}).status_code for _ in range(5)]
    assert codes[:3] == [200] * 3 and codes[3:] == [429, 429]


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_staff_revokes_and_the_page_says_so(app, client, terminal, hanako, bind_card, make_staff,
                                           sign_in_as, city, db):
    code = issued_code(terminal, bind_card(hanako))
    sign_in_as(make_staff(city, roles=["issuance_operator"]))
    found = client.get(f"{PREFIX}/staff/certificates", query_string={"q": code})
    html = found.get_data(as_text=True)
    with db.transaction(city.id) as s:
        certificate_id = s.scalar(select(IssuedCertificate.id))
    empty = client.post(f"{PREFIX}/staff/certificates/{certificate_id}/revoke",
                        data={"csrf_token": csrf_of(html), "reason": ""}, follow_redirects=True)
    assert "失効の理由を入力してください" in empty.get_data(as_text=True)
    done = client.post(f"{PREFIX}/staff/certificates/{certificate_id}/revoke",
                       data={"csrf_token": csrf_of(html), "reason": "記載誤り"}, follow_redirects=True)
    assert "失効させました" in done.get_data(as_text=True)
    public = client.get(f"{PREFIX}/verify", query_string={"code": code}).get_data(as_text=True)
    assert "失効しています" in public


def test_staff_of_another_city_cannot_revoke(client, terminal, hanako, bind_card, make_staff, sign_in_as,
                                             other_city, db, city):
    issued_code(terminal, bind_card(hanako))
    with db.transaction(city.id) as s:
        certificate_id = s.scalar(select(IssuedCertificate.id))
    client.application.config["WTF_CSRF_ENABLED"] = False
    sign_in_as(make_staff(other_city, roles=["issuance_operator"]))
    refused = client.post(f"{PREFIX}/staff/certificates/{certificate_id}/revoke", data={"reason": "x"})
    assert refused.status_code == 404
    with db.transaction(city.id) as s:
        assert s.scalar(select(IssuedCertificate.revoked_at)) is None


def test_resident_cannot_open_staff_pages(client, hanako, sign_in_as):
    sign_in_as(hanako)
    assert client.get(f"{PREFIX}/staff/log").status_code == 403


def test_log_and_daily_reconciliation(client, terminal, hanako, make_resident, bind_card, make_staff,
                                      sign_in_as, city, db, other_city):
    from tests.convenience_issuance.conftest import Terminal
    issued_code(terminal, bind_card(hanako))
    jiro = make_resident(city, family="土佐", given="次郎", birth=date(1980, 1, 1))
    second = Terminal(terminal.client, city.code)
    second.start(bind_card(jiro))
    second.quote("juminhyo_kisai")
    second.pay("recon-key-002", 200)
    from services.convenience_issuance.issuance import reconcile
    with db.transaction(city.id) as s:
        report = reconcile(s, date(2026, 7, 1))
    assert report.rows == (("juminhyo", 1, 200), ("juminhyo_kisai", 1, 200))
    assert report.balanced and report.payments_total == 400
    with db.transaction(other_city.id) as s:  # another city's day is empty
        assert reconcile(s, date(2026, 7, 1)).rows == ()
    with db.transaction(city.id) as s:
        assert reconcile(s, date(2026, 7, 2)).rows == ()
    sign_in_as(make_staff(city, roles=["issuance_operator"]))
    page = client.get(f"{PREFIX}/staff/reconciliation", query_string={"day": "2026-07-01"}).get_data(as_text=True)
    assert "住民票記載事項証明書" in page and "一致しています" in page
    log = client.get(f"{PREFIX}/staff/log").get_data(as_text=True)
    assert "issued" in log and "store-0001" in log
    assert "交付" in log and "住民票記載事項証明書" in log and 'href="/services/convenience_issuance/staff/log"' in page


def test_resident_page_lists_catalogue_and_own_certificates(client, terminal, hanako, bind_card, sign_in_as):
    code = issued_code(terminal, bind_card(hanako))
    sign_in_as(hanako)
    html = client.get(f"{PREFIX}/").get_data(as_text=True)
    assert "印鑑登録証明書" in html and "06:30" in html and code in html
