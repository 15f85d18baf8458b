"""Staff may bind their own card and sign in with it."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.cards.models import CardBinding
from tests.cards.conftest import CardClient, csrf_token, login_token
from tests.conftest import https_client


def test_staff_binds_own_card_then_signs_in_with_it(app, client, sign_in_as, make_city,
                                                    make_staff, issue_card, db):
    city = make_city()
    clerk = make_staff(city, roles=["registry_clerk"], username="clerk")
    card = issue_card(name="職員　一郎", birth_date=date(1975, 6, 1), address="南国市役所")
    sign_in_as(clerk)
    binder = CardClient(client)
    nonce = binder.challenge("bind_staff")
    bound = binder.post("/auth/card", login_token(card, nonce))
    assert bound.get_json()["status"] == "bound"
    with db.transaction(city.id) as s:
        binding = s.scalar(select(CardBinding))
        assert binding.staff_id == clerk.id and binding.resident_id is None

    fresh = CardClient(https_client(app))
    assert fresh.login(card).get_json()["status"] == "signed_in"
    assert "職員メニュー" in fresh.client.get("/staff/").get_data(as_text=True)


def test_residents_cannot_ask_for_a_staff_binding(client, sign_in_as, make_city, make_resident):
    sign_in_as(make_resident(make_city()))
    response = client.post("/auth/challenge", json={"purpose": "bind_staff"},
                           headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 403


def test_a_card_cannot_be_bound_twice(client, sign_in_as, make_city, make_staff, issue_card):
    city = make_city()
    card = issue_card(name="職員　二郎", birth_date=date(1976, 6, 1), address="南国市役所")
    for username in ("a", "b"):
        sign_in_as(make_staff(city, username=username))
        binder = CardClient(client)
        answer = binder.post("/auth/card", login_token(card, binder.challenge("bind_staff")))
    assert answer.status_code == 409 and "すでに登録" in answer.get_json()["message"]
