"""The terminal API, end to end through the test client: card token → bearer → quote →
payment (idempotent) → signed PDF → printed; refusals, expiry, other cities, hours."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from portal.metering.models import UsageEvent
from services.convenience_issuance.models import (IssuanceLogEntry, IssuanceRequest,
                                                  IssuedCertificate, Payment)
from tests.convenience_issuance.conftest import API, Terminal


def count(db, city, model, *where):
    with db.transaction(city.id) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_whole_flow(terminal, hanako, bind_card, db, city):
    card = bind_card(hanako)
    started = terminal.start(card)
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    assert body["holder"]["masked_name"] == "高＊\u3000花＊"
    offers = {o["certificate_type"]: o for o in body["catalogue"]}
    assert offers["juminhyo"]["available"] and offers["juminhyo"]["fee"] == 200
    assert not offers["inkan"]["available"]  # no seal registered
    quoted = terminal.quote("juminhyo", household=True, relationship=True)
    assert quoted.status_code == 200, quoted.get_json()
    assert quoted.get_json()["state"] == "quoted" and quoted.get_json()["fee"] == 200
    paid = terminal.pay("pay-key-0001", 200)
    assert paid.status_code == 201, paid.get_json()
    certificate = paid.get_json()["certificate"]
    assert paid.get_json()["state"] == "issued" and paid.get_json()["replayed"] is False
    pdf = terminal.pdf()
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and b"/ByteRange" in pdf.data
    done = terminal.outcome("printed")
    assert done.get_json()["state"] == "printed"
    # released: the bearer token no longer works, the PDF is gone from the server
    assert terminal.status().status_code == 401
    with db.transaction(city.id) as s:
        request = s.scalar(select(IssuanceRequest))
        assert request.pdf is None and request.released_at is not None
        issued = s.scalar(select(IssuedCertificate))
        assert issued.verification_code == certificate["verification_code"]
        usage = s.scalar(select(UsageEvent).where(UsageEvent.service == "convenience_issuance"))
        assert usage.metric == "certificate_issued:juminhyo"
        events = s.scalars(select(IssuanceLogEntry.event).order_by(IssuanceLogEntry.id)).all()
    assert events == ["started", "quoted", "paid", "issued", "printed"]


def test_failed_print_voids_the_certificate_and_refunds_the_fee(terminal, client, hanako,
                                                                 bind_card, db, city):
    """The paper did not come out: nothing was delivered. The verification page confirms
    only what the holder printed, so the certificate is void at once (a PDF left on the
    terminal cannot pass as genuine), and the resident gets the fee back: the day's
    reconciliation counts neither the certificate nor its payment."""
    from services.convenience_issuance.issuance import reconcile
    terminal.start(bind_card(hanako))
    terminal.quote("juminhyo")
    paid = terminal.pay("fail-key-0001", 200)
    assert paid.status_code == 201 and paid.get_json()["amount_charged"] == 200
    code = paid.get_json()["certificate"]["verification_code"]
    assert terminal.pdf().status_code == 200
    failed = terminal.outcome("failed")
    assert failed.status_code == 200, failed.get_json()
    assert failed.get_json()["state"] == "failed" and failed.get_json()["amount_refunded"] == 200
    # released like any end: the token stops working, the PDF is gone, no second print
    assert terminal.status().status_code == 401 and terminal.pdf().status_code == 401
    assert terminal.outcome("printed").status_code == 401
    with db.transaction(city.id) as s:
        request = s.scalar(select(IssuanceRequest))
        assert request.pdf is None and request.released_at is not None
        certificate = s.scalar(select(IssuedCertificate))
        assert certificate.revoked_at is not None and "返金" in certificate.revoke_reason
        events = s.scalars(select(IssuanceLogEntry.event).order_by(IssuanceLogEntry.id)).all()
        refund = s.scalar(select(IssuanceLogEntry).where(IssuanceLogEntry.event == "refunded"))
        assert refund.fee == 200
        report = reconcile(s, date(2026, 7, 1))
    assert events == ["started", "quoted", "paid", "issued", "voided", "refunded", "failed"]
    assert report.rows == () and report.payments_total == 0 and report.balanced
    assert report.refunds == (1, 200)
    public = client.get("/services/convenience_issuance/verify", query_string={"code": code})
    html = public.get_data(as_text=True)
    assert "失効しています" in html and "交付したもの" not in html


def test_failed_print_is_counted_apart_beside_a_printed_one(terminal, hanako, make_resident,
                                                            bind_card, make_staff, sign_in_as,
                                                            client, db, city):
    from services.convenience_issuance.issuance import reconcile
    terminal.start(bind_card(hanako))
    terminal.quote("juminhyo")
    terminal.pay("print-key-0001", 200)
    printed_answer = terminal.outcome("printed").get_json()
    assert printed_answer["state"] == "printed" and "amount_refunded" not in printed_answer
    jiro = make_resident(city, family="土佐", given="次郎", birth=date(1980, 1, 1))
    second = Terminal(terminal.client, city.code)
    second.start(bind_card(jiro))
    second.quote("juminhyo_kisai")
    second.pay("print-key-0002", 200)
    second.outcome("failed")
    with db.transaction(city.id) as s:
        report = reconcile(s, date(2026, 7, 1))
        printed = s.scalar(select(IssuedCertificate).where(IssuedCertificate.resident_id == hanako.id))
        assert printed.revoked_at is None   # the printed one stays valid
    assert report.rows == (("juminhyo", 1, 200),) and report.payments_total == 200
    assert report.balanced and report.refunds == (1, 200)
    sign_in_as(make_staff(city, roles=["issuance_operator"]))
    page = client.get("/services/convenience_issuance/staff/reconciliation",
                      query_string={"day": "2026-07-01"}).get_data(as_text=True)
    assert "一致しています" in page and 'id="refunds"' in page and "1件 200円" in page


def test_retried_payment_charges_once(terminal, hanako, bind_card, db, city):
    terminal.start(bind_card(hanako))
    terminal.quote("juminhyo")
    first = terminal.pay("retry-key-0001", 200)
    again = terminal.pay("retry-key-0001", 200)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["replayed"] is True
    assert again.get_json()["certificate"] == first.get_json()["certificate"]
    other_key = terminal.pay("retry-key-0002", 200)
    assert other_key.status_code == 409 and other_key.get_json()["error"] == "AlreadyPaid"
    assert count(db, city, Payment) == 1
    assert count(db, city, IssuedCertificate) == 1


def test_idempotency_key_is_bound_to_the_body(terminal, hanako, bind_card, db, city):
    """The same key with another amount was answered 200 with the first certificate."""
    terminal.start(bind_card(hanako))
    terminal.quote("juminhyo")
    first = terminal.pay("bound-key-0001", 200)
    assert first.status_code == 201
    other_body = terminal.pay("bound-key-0001", 100)
    assert other_body.status_code == 409
    assert other_body.get_json()["error"] == "IdempotencyKeyMismatch"
    assert other_body.get_json()["message"]           # the API's Problem shape
    by_header = terminal.client.post(f"{API}/request/payment", json={"amount": 200},
                                     headers=terminal.headers(**{"Idempotency-Key": "bound-key-0001"}))
    assert by_header.status_code == 200                # the same body, the key in the header
    again = terminal.pay("bound-key-0001", 200)
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    assert again.get_json()["certificate"] == first.get_json()["certificate"]
    assert count(db, city, Payment) == 1


def test_idempotency_key_of_another_request_is_refused(app, terminal, hanako, make_resident,
                                                      bind_card, db, city):
    terminal.start(bind_card(hanako))
    terminal.quote("juminhyo")
    assert terminal.pay("shared-key-0001", 200).status_code == 201
    jiro = make_resident(city, family="土佐", given="次郎", birth=date(1980, 1, 1))
    second = Terminal(terminal.client, city.code)
    second.start(bind_card(jiro))
    second.quote("juminhyo")
    reused = second.pay("shared-key-0001", 200)
    assert reused.status_code == 409 and reused.get_json()["error"] == "IdempotencyKeyReused"
    assert second.status().get_json()["state"] == "quoted"  # nothing changed
    assert count(db, city, Payment) == 1


def test_wrong_amount_changes_nothing(terminal, hanako, bind_card, db, city):
    terminal.start(bind_card(hanako))
    terminal.quote("juminhyo")
    wrong = terminal.pay("amount-key-01", 150)
    assert wrong.status_code == 409 and wrong.get_json()["error"] == "AmountMismatch"
    assert terminal.status().get_json()["state"] == "quoted"
    assert count(db, city, Payment) == 0
    assert terminal.pay("amount-key-01", 200).status_code == 201


def test_payment_before_quote_is_refused(terminal, hanako, bind_card):
    terminal.start(bind_card(hanako))
    early = terminal.pay("early-key-001", 200)
    assert early.status_code == 409 and early.get_json()["error"] == "WrongState"


def test_abandoned_request_expires_and_releases(terminal, hanako, bind_card, clock, db, city):
    terminal.start(bind_card(hanako))
    terminal.quote("juminhyo")
    clock.advance(minutes=11)
    late = terminal.pay("late-key-0001", 200)
    assert late.status_code == 410 and late.get_json()["error"] == "RequestExpired"
    assert terminal.status().status_code == 401  # the token was released
    with db.transaction(city.id) as s:
        request = s.scalar(select(IssuanceRequest))
        assert request.state.value == "expired" and request.released_at is not None
        assert "expired" in s.scalars(select(IssuanceLogEntry.event)).all()
    assert count(db, city, Payment) == 0


def test_sweep_expires_requests_nobody_touches(terminal, hanako, bind_card, clock, db, city):
    from services.convenience_issuance.issuance import expire_requests
    terminal.start(bind_card(hanako))
    clock.advance(minutes=30)
    with db.transaction(city.id) as s:
        assert expire_requests(s, clock()) == 1
    with db.transaction(city.id) as s:
        assert s.scalar(select(IssuanceRequest)).state.value == "expired"


def test_cancel_releases(terminal, hanako, bind_card):
    terminal.start(bind_card(hanako))
    terminal.quote("juminhyo")
    assert terminal.cancel().get_json()["state"] == "expired"
    assert terminal.quote("juminhyo").status_code == 401


def test_resident_of_another_city_is_refused(app, other_city, city, clock, keys, make_resident,
                                            bind_card, db):
    from tests.conftest import https_client
    konan = make_resident(other_city, family="香南", given="一郎", birth=date(1970, 5, 5))
    at_nankoku = Terminal(https_client(app), city.code)
    refused = at_nankoku.start(bind_card(konan))
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "other_municipality"
    assert "香南" not in refused.get_data(as_text=True)
    assert count(db, city, IssuanceRequest) == 0
    with db.transaction(city.id) as s:
        assert s.scalar(select(IssuanceLogEntry.reason)) == "other_municipality"


def test_outside_hours_refused(terminal, hanako, bind_card, clock, db, city):
    card = bind_card(hanako)
    clock.now = clock.now.replace(hour=14)  # 23:00 JST
    refused = terminal.challenge()
    assert refused.status_code == 403 and refused.get_json()["error"] == "outside_hours"
    assert "06:30" in refused.get_json()["message"]
    clock.now = clock.now.replace(hour=13, minute=55)  # 22:55 JST: starts, then closes
    assert terminal.start(card).status_code == 201
    clock.advance(minutes=6)
    late = terminal.quote("juminhyo")
    assert late.status_code == 403 and late.get_json()["error"] == "outside_hours"


def test_year_end_closed(terminal, hanako, bind_card, clock):
    clock.now = clock.now.replace(month=12, day=30)
    refused = terminal.challenge()
    assert refused.status_code == 403 and refused.get_json()["error"] == "closed_day"


def test_protected_household_reads_only_ask_at_counter(terminal, hanako, make_resident, bind_card,
                                                       db, city):
    make_resident(city, family="高知", given="次郎", birth=date(1988, 1, 1),
                  household=hanako.household_id, relationship="夫", support_block=True)
    refused = terminal.start(bind_card(hanako))
    assert refused.status_code == 403
    assert refused.get_json() == {"error": "ask_at_counter", "message": "窓口でお問い合わせください"}
    assert count(db, city, IssuanceRequest) == 0
    with db.transaction(city.id) as s:  # the staff log keeps the real reason
        assert s.scalar(select(IssuanceLogEntry.reason)) == "household_support_block"


def test_under_15_refused_with_reason(terminal, make_resident, bind_card, city):
    child = make_resident(city, family="高知", given="小太郎", birth=date(2015, 1, 1))
    refused = terminal.start(bind_card(child))
    assert refused.status_code == 403 and refused.get_json()["error"] == "under_15"


def test_seal_and_tax_certificates(terminal, hanako, bind_card, db, city):
    from portal.registry.models import SealRegistration, TaxRecord
    with db.transaction(city.id) as s:
        s.add(SealRegistration(resident_id=hanako.id, registration_number="S-0001",
                               registered_on=date(2010, 1, 1)))
        s.add(TaxRecord(resident_id=hanako.id, fiscal_year=2025, total_income=3_200_000,
                        taxable_income=2_100_000, municipal_tax=126_000, prefectural_tax=84_000))
    body = terminal.start(bind_card(hanako)).get_json()
    offers = {o["certificate_type"]: o for o in body["catalogue"]}
    assert offers["inkan"]["available"] and offers["shotoku_kazei"]["fiscal_years"] == [2025]
    refused = terminal.quote("shotoku_kazei", fiscal_year=2024)
    assert refused.get_json()["error"] == "no_tax_record"
    assert terminal.quote("shotoku_kazei", fiscal_year=2025).get_json()["fee"] == 200
    assert terminal.quote("inkan").get_json()["certificate_type"] == "inkan"


def test_token_signed_for_another_origin_is_refused(terminal, hanako, bind_card):
    refused = terminal.start(bind_card(hanako), origin="https://phishing.example")
    assert refused.status_code == 401 and refused.get_json()["error"] == "SignatureInvalid"


def test_unregistered_card_is_refused(terminal, hanako, issue_card):
    card = issue_card(name=hanako.name, birth_date=hanako.birth_date, address=hanako.address)
    refused = terminal.start(card)
    assert refused.status_code == 403 and refused.get_json()["error"] == "card_not_registered"


def test_nonce_is_single_use(terminal, hanako, bind_card):
    from tests.cards.conftest import login_token
    card = bind_card(hanako)
    data = terminal.challenge().get_json()
    post = {"request_id": data["request_id"], "nonce": data["nonce"], "terminal_id": "t1",
            "token": login_token(card, data["nonce"])}
    assert terminal.client.post(f"{API}/sessions", json=post).status_code == 201
    again = terminal.client.post(f"{API}/sessions", json=post)
    assert again.status_code == 401 and again.get_json()["error"] == "NonceInvalid"


def test_city_without_the_service_is_refused(app, make_city, clock):
    from tests.conftest import https_client
    make_city("392120", "香美市", services=[])
    refused = Terminal(https_client(app), "392120").challenge()
    assert refused.status_code == 404 and refused.get_json()["error"] == "service_not_enabled"


def test_bad_bearer_and_bad_input(terminal, hanako, bind_card):
    terminal.token = "not-a-token"
    assert terminal.status().status_code == 401
    terminal.token = None
    assert terminal.start(bind_card(hanako)).status_code == 201
    assert terminal.pay("short", 200).status_code == 400
    assert terminal.pay("long-enough-key", "200").status_code == 400
    assert terminal.quote("koseki").get_json()["error"] == "type_not_offered"
    assert terminal.outcome("printed").get_json()["error"] == "WrongState"
