"""The public verification page also takes the certificate PDF itself (read in memory,
never stored): it says whether the signature is intact, made by which city, time-stamped
when, and whether the certificate was voided since."""
from __future__ import annotations

import io
import re

import pytest

from portal.api import Municipality
from services.convenience_issuance.signing import sign_pdf
from tests.convenience_issuance.test_pades_lta import city_key, lta, trust_service  # noqa: F401
from tests.convenience_issuance.test_pdf import issue

VERIFY = "/services/convenience_issuance/verify"


def upload(client, data: bytes, name: str = "certificate.pdf"):
    page = client.get(VERIFY).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    return client.post(f"{VERIFY}/upload", data={"csrf_token": token, "pdf": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_an_intact_certificate_is_confirmed_with_its_city(terminal, client, hanako, bind_card):
    pdf = issue(terminal, bind_card(hanako), "juminhyo")
    response = upload(client, pdf)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "電子署名は有効です。この証明書は南国市が交付したものです。" in html
    assert "392049-2026-" in html and "失効していません" in html and "時刻認証なし" in html


@pytest.mark.parametrize("lang, name_en, shown", [("ja", "Nankoku", "南国市"), ("en", "Nankoku", "Nankoku"),
                                                  ("en", "", "南国市")])
def test_the_result_names_the_city_in_the_pages_language(terminal, client, hanako, bind_card, city, db,
                                                         lang, name_en, shown):
    with db.transaction() as s:
        s.get(Municipality, city.id).name_en = name_en
    pdf = issue(terminal, bind_card(hanako), "juminhyo")
    client.get(f"/lang/{lang}")
    html = upload(client, pdf).get_data(as_text=True)
    verdict = re.search(r'<h3 class="verified">([^<]*)</h3>', html)[1]
    assert verdict == {"ja": "電子署名は有効です。この証明書は{}が交付したものです。",
                       "en": "The signature is valid. This certificate was issued by {}."}[lang].format(shown)


def test_a_b_lta_certificate_shows_when_it_was_timestamped(lta, terminal, client, hanako, bind_card):  # noqa: F811
    response = upload(client, issue(terminal, bind_card(hanako), "juminhyo"))
    html = response.get_data(as_text=True)
    assert "電子署名は有効です" in html and "（日本時間）" in html
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d （日本時間）", html)
    assert "あり（文書タイムスタンプ付き）" in html


def test_a_changed_byte_is_detected(terminal, client, hanako, bind_card):
    pdf = bytearray(issue(terminal, bind_card(hanako), "juminhyo"))
    index = pdf.index(b"/Author")
    pdf[index + 10] ^= 0x01
    html = upload(client, bytes(pdf)).get_data(as_text=True)
    assert "電子署名の後に内容が変更されています" in html and "電子署名は有効です" not in html


def test_a_voided_certificate_says_so(terminal, client, hanako, bind_card):
    pdf = issue(terminal, bind_card(hanako), "juminhyo")
    assert terminal.outcome("failed").status_code == 200   # void: the paper never came out
    html = upload(client, pdf).get_data(as_text=True)
    assert "この証明書は失効しています" in html and "電子署名は有効です" not in html


def test_a_signature_by_another_key_is_not_the_citys(terminal, client, hanako, bind_card,
                                                      municipal_keys):
    """A forger re-signs a changed certificate with a key of their own named like the city."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    genuine = issue(terminal, bind_card(hanako), "juminhyo")
    title = str(PdfFileReader(io.BytesIO(genuine)).trailer["/Info"]["/Title"])
    from reportlab.pdfgen.canvas import Canvas
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.setTitle(title)
    canvas.drawString(72, 720, "forged")
    canvas.showPage()
    canvas.save()
    forged = sign_pdf(buffer.getvalue(), municipal_keys["392111"], "南国市")
    html = upload(client, forged).get_data(as_text=True)
    assert "南国市の電子署名ではありません" in html and "電子署名は有効です" not in html


def test_too_large_or_not_a_certificate_is_a_plain_error(terminal, client):
    too_big = upload(client, b"%PDF-1.7\n" + b"0" * (4 * 1024 * 1024 + 10))
    assert too_big.status_code == 422 and "ファイルが大きすぎます" in too_big.get_data(as_text=True)
    junk = upload(client, b"not a pdf at all")
    assert junk.status_code == 422 and "証明書のPDFではありません" in junk.get_data(as_text=True)
    assert "Traceback" not in junk.get_data(as_text=True)
