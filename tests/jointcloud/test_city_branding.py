"""A city's branding (表示名・色・ロゴ) on the pages of its own residents and staff — never on
another city's — delivered under the CSP (a stylesheet of the city's own, no inline style);
and the references to the city's images (logo, 公印) kept inside the operator's folder."""
from __future__ import annotations

import io
import os
import re

import pytest
from PIL import Image
from selenium.webdriver.common.by import By

from portal.jointcloud import config
from portal.tenancy.assets import AssetRefused, resolve
from portal.tenancy.branding import branding_of, contrast, stylesheet
from portal.tenancy.models import Municipality


def set_settings(db, city, **settings) -> None:
    with db.transaction() as s:
        row = s.get(Municipality, city.id)
        row.settings = {**(row.settings or {}), **settings}


def png(path, size=(40, 20), colour=(0, 128, 0)) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


@pytest.fixture
def cities(db, make_city, make_resident, make_staff, assets):
    """南国市 in green with a logo, 香南市 in blue without one."""
    nankoku, konan = make_city("392049", "南国市"), make_city("392111", "香南市")
    logo = png(assets / "branding" / "392049.png")
    set_settings(db, nankoku, branding={"display_name": "南国市 健康ポータル",
                                        "primary_colour": "#1B5E20", "accent_colour": "#f9a825",
                                        "logo": "branding/392049.png"})
    set_settings(db, konan, branding={"display_name": "香南市 くらしの窓口",
                                      "primary_colour": "#0d47a1"})
    return {"nankoku": nankoku, "konan": konan, "logo": logo,
            "resident": make_resident(nankoku, family="南国", given="花子"),
            "konan_staff": make_staff(konan, roles=["registry_clerk"], username="konan_clerk")}


def header(body: str) -> str:
    return body[body.index("<header"):body.index("</header>")]


def test_a_resident_sees_their_city_and_not_another(client, sign_in_as, cities):
    sign_in_as(cities["resident"])
    response = client.get("/")
    body = response.get_data(as_text=True)
    assert "南国市 健康ポータル" in header(body)
    assert 'data-city="392049"' in body and 'class="city-branded"' in body
    assert 'href="/cities/392049/branding.css"' in body
    assert 'src="/cities/392049/logo"' in body
    assert "香南市" not in body and "392111" not in body
    # The colour comes from a stylesheet, never an inline style (the CSP forbids those).
    assert "style=" not in body and "<style" not in body
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]

    css = client.get("/cities/392049/branding.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    text = css.get_data(as_text=True)
    assert "#1b5e20" in text and "#f9a825" in text and "#0d47a1" not in text
    logo = client.get("/cities/392049/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert logo.data == cities["logo"]


def test_staff_of_the_other_city_see_theirs(client, sign_in_as, cities):
    sign_in_as(cities["konan_staff"])
    response = client.get("/staff/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "香南市 くらしの窓口" in header(body)
    assert 'href="/cities/392111/branding.css"' in body
    assert "南国市" not in body and "392049" not in body
    assert "city-logo" not in body  # 香南市 has no logo
    assert "#0d47a1" in client.get("/cities/392111/branding.css").get_data(as_text=True)
    assert client.get("/cities/392111/logo").status_code == 404


def test_no_city_branding_signed_out_or_for_the_operator(client, sign_in_as, cities, make_staff):
    body = client.get("/").get_data(as_text=True)
    assert "city-branded" not in body and "branding.css" not in body
    operator = make_staff(cities["nankoku"], roles=["cloud_operator"], username="cloud_op")
    sign_in_as(operator)  # works for every city, so none of them brands the console
    body = client.get("/operator/").get_data(as_text=True)
    assert "city-branded" not in body and "健康ポータル" not in body


def test_name_falls_back_to_the_city_and_no_colours_means_no_stylesheet(
        client, sign_in_as, db, make_city, make_resident, assets):
    kami = make_city("392120", "香美市", name_en="Kami City")
    sign_in_as(make_resident(kami))
    body = client.get("/").get_data(as_text=True)
    assert '<span class="city-name">香美市</span>' in header(body)
    assert "branding.css" not in body
    client.get("/lang/en")
    assert '<span class="city-name">Kami City</span>' in header(client.get("/").get_data(as_text=True))


def test_unknown_city_has_no_stylesheet(client):
    assert client.get("/cities/999999/branding.css").status_code == 404
    assert client.get("/cities/999999/logo").status_code == 404


def test_stylesheet_keeps_text_readable():
    # a city never stored: the branding is worked out from the row alone
    city = Municipality(code="392049", name="南国市", name_en="",
                        settings={"branding": {"primary_colour": "#fff59d"}})  # pale yellow
    pale = stylesheet(branding_of(city))
    assert "--accent:" not in pale  # links and buttons keep the portal's accent
    assert "color: #1a1a1a" in pale  # header text in ink on the pale header
    city.settings = {"branding": {"primary_colour": "#1b5e20", "accent_colour": "red;}"}}
    dark = branding_of(city)
    assert dark.accent_colour is None  # not a #rrggbb colour: dropped, never written out
    assert "--accent: #1b5e20" in stylesheet(dark) and "color: #ffffff" in stylesheet(dark)
    assert contrast("#000000", "#ffffff") == pytest.approx(21)


@pytest.mark.parametrize("reference", [
    "../secret.png", "seals/../../etc/passwd.png", "/etc/madoguchi/seal.png", "seals//a.png",
    "https://example.org/seal.png", "seals\\392049.png", ".hidden.png", "seals/392049.pdf",
    "C:/seal.png", "seals/./392049.png"])
def test_references_outside_the_folder_are_refused(reference, tmp_path):
    with pytest.raises(config.ConfigInvalid):
        config.validate_settings({"seal_image": reference})
    with pytest.raises(config.ConfigInvalid):
        config.validate_settings({"branding": {"logo": reference}})
    with pytest.raises(AssetRefused):
        resolve(tmp_path, reference, "seal_image")


def test_a_symlink_leading_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside.png"
    png(outside)
    folder = tmp_path / "assets"
    folder.mkdir()
    os.symlink(outside, folder / "seal.png")
    with pytest.raises(AssetRefused, match="外"):
        resolve(folder, "seal.png", "seal_image")
    png(folder / "seals" / "ok.png")
    assert resolve(folder, "seals/ok.png", "seal_image") == (folder / "seals" / "ok.png").resolve()
    with pytest.raises(AssetRefused, match="ありません"):
        resolve(folder, "seals/missing.png", "seal_image")


def test_logo_may_be_svg_but_a_seal_may_not():
    config.validate_settings({"branding": {"logo": "branding/392049.svg"},
                              "seal_image": "seals/392049.png"})
    with pytest.raises(config.ConfigInvalid, match="seal_image"):
        config.validate_settings({"seal_image": "seals/392049.svg"})


def test_a_refused_logo_is_not_served(client, sign_in_as, db, cities, assets, tmp_path):
    png(tmp_path / "secret.png")
    set_settings(db, cities["nankoku"], branding={"display_name": "南国市",
                                                  "logo": "../secret.png"})
    assert client.get("/cities/392049/logo").status_code == 404
    sign_in_as(cities["resident"])
    assert "city-logo" not in client.get("/").get_data(as_text=True)


@pytest.mark.browser
def test_city_colour_and_logo_under_the_csp_in_a_browser(page, client, sign_in_as, cities):
    sign_in_as(cities["resident"])
    page.adopt_session(client)
    driver = page.open("/")
    head = driver.find_element(By.CSS_SELECTOR, ".site-header")
    colour = driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", head)
    assert re.sub(r"\s", "", colour) == "rgb(27,94,32)"  # #1b5e20
    logo = driver.find_element(By.CSS_SELECTOR, "img.city-logo")
    assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", logo) == 40
    assert driver.find_element(By.CSS_SELECTOR, ".city-name").text == "南国市 健康ポータル"
    assert not [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    page.shot("jointcloud-city-branding")
