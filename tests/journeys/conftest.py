"""The browser journeys share one of everything per module: the app (its outer transaction
rolled back at the end), the live server, the two card bridges (the home one and the demo
kiosk's, in kiosk mode, as `make run` starts them), the demo's data (`madoguchi demo`:
three cities, the card family, staff, the operator's figures), the mother's card on the
virtual reader, and the session's one Chromium. Staff accounts and the children the nurse
writes about are per language: a TOTP code is accepted once, and a checkup once per child."""
from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.clock import today_jst
from portal.registry.models import GuardianLink, Sex
from tests.browser.conftest import ARTIFACTS, browser, page, serving  # noqa: F401
# a journey failing half-way leaves no bridge or certificate window to the next
from tests.cardlogin.conftest import one_window_afterwards  # noqa: F401
from tests.conftest import TEST_SECRET, card_settings, new_resident, new_staff, rolled_back_app
from tests.convenience_issuance.conftest import OPEN_TIME, Clock, municipal_keys  # noqa: F401
from tests.smartcard.conftest import PORT_A, READER_A, pcsc_stack, serve, stop  # noqa: F401

LANGS = ("ja", "en")
KIOSK_ID = "demo-kiosk"
PIN = "1234"
SHOTS = Path(os.environ.get("MADOGUCHI_SCREENSHOTS") or ARTIFACTS / "journeys")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def bridge_ports() -> dict[str, int]:
    return {"home": free_port(), "kiosk": free_port()}


@pytest.fixture(scope="module")
def app_config(migrated_url, card_pki, bridge_ports):
    """The test configuration, with the bridges and the kiosk as demo.toml has them."""
    return {"ENV": "production", "SECRET_KEY": TEST_SECRET, "DATABASE_URL": migrated_url,
            "OIDC_ISSUER": "https://localhost", "TESTING": True, **card_settings(card_pki),
            "CARD_BRIDGE_URL": f"http://127.0.0.1:{bridge_ports['home']}",
            "KIOSKS": {KIOSK_ID: {"municipality": "392049", "name": "南国市 中央公民館",
                                  "bridge": f"http://127.0.0.1:{bridge_ports['kiosk']}"}}}


@pytest.fixture(scope="module")
def app(app_config, municipal_keys):  # noqa: F811
    from services.convenience_issuance.signing import KeyRing
    with rolled_back_app(app_config) as application:
        keys = KeyRing({}, allow_development=False)
        keys.add("392049", municipal_keys["392049"])
        application.extensions["convenience_issuance.keys"] = keys
        # the store is open whatever hour the suite runs
        application.extensions["convenience_issuance.clock"] = Clock(OPEN_TIME)
        yield application


@pytest.fixture(scope="module")
def live_server(app):
    with serving(app) as base:
        yield base


@pytest.fixture(scope="module")
def demo(app, card_pki):
    """`madoguchi demo` with a handful of synthetic residents, plus per language a nurse,
    an operator and a baby with no checkup yet; the mother's card bound to her."""
    from portal import demo_family
    from portal.demo import _bind, build_demo
    from portal.tenancy.models import Municipality
    database = app.extensions["madoguchi.db"]
    assert build_demo(database, residents=3, seed=2017)
    with database.transaction() as s:
        city = s.scalar(select(Municipality).where(Municipality.code == "392049"))
    with database.transaction(city.id) as s:
        mother = demo_family.card_holders(s)[0]
    born = today_jst() - timedelta(days=118)
    cast = {"city": city, "mother": mother}
    for lang, given, kana in (("ja", "太郎", "タロウ"), ("en", "次郎", "ジロウ")):
        baby = new_resident(database, city, family="土佐", given=given, birth=born, sex=Sex.MALE,
                            relationship="子", family_kana="トサ", given_kana=kana)
        with database.transaction(city.id) as s:
            s.add(GuardianLink(guardian_id=mother.id, child_id=baby.id))
        cast[lang] = {"baby": baby,
                      "nurse": new_staff(database, city, ["health_staff"], f"nurse_{lang}"),
                      "operator": new_staff(database, city, ["cloud_operator"], f"operator_{lang}")}
    card = card_pki.issue_card(name=mother.name, birth_date=mother.birth_date, address=mother.address,
                               sex=mother.sex.value, pin=PIN, password="DEMO2026")
    with database.transaction(city.id) as s:
        _bind(s, card_pki, card, city, mother)
    cast["card"] = card
    return cast


@pytest.fixture(scope="module")
def card_on_reader(pcsc_stack, demo):  # noqa: F811
    server = serve(demo["card"], PORT_A, READER_A, pcsc_stack)
    yield server
    stop(server, READER_A, pcsc_stack)


@pytest.fixture(scope="module")
def bridges(live_server, bridge_ports, card_on_reader):
    """The home bridge (asks to confirm the site, PIN typed) and the kiosk's (PIN pad,
    card events), both beside the one reader."""
    from smartcard.bridge.server import Bridge
    home = Bridge([live_server], port=bridge_ports["home"], reader=READER_A, card_wait_s=2.0).start()
    kiosk = Bridge([live_server], port=bridge_ports["kiosk"], reader=READER_A, card_wait_s=2.0,
                   kiosk=True).start()
    yield {"home": home, "kiosk": kiosk}
    home.stop()
    kiosk.stop()

