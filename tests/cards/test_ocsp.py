"""Revocation by OCSP: the portal's client against the test PKI's responder over a real
HTTP socket, alone and beside the CRLs, and through the card-login endpoint."""
from __future__ import annotations

import datetime as dt
import socket
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.cards.errors import CertificateRevoked, RevocationUnavailable
from portal.cards.ocsp import OcspClient
from portal.cards.revocation import CrlStore, RevocationSources
from portal.cards.validation import TokenValidator
from portal.config import ConfigError, load_config
from madoguchi_smartcard.testocsp import OcspResponder
from tests.cards.test_card_login import HOME, refused

NOW = dt.datetime.now(dt.timezone.utc)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def responder(card_pki):
    """The test responder on 127.0.0.1, its options reset by each test."""
    app = OcspResponder(card_pki)
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.url = f"http://127.0.0.1:{server.server_port}/"
    yield app
    server.shutdown()


@pytest.fixture(autouse=True)
def fresh_responder(responder):
    responder.options.clear()
    responder.requests = 0


@pytest.fixture
def card(card_pki):
    return card_pki.issue_card(name="照会　一郎", birth_date=dt.date(1981, 3, 4),
                               address="高知県香美市土佐山田町1")


def auth_cert(profile) -> x509.Certificate:
    return x509.load_der_x509_certificate(profile.auth.certificate)


def issuer_of(pki) -> x509.Certificate:
    return pki.ca("auth", 2).certificate


def validator(pki, url, crl_paths=(), soft_fail=False) -> TokenValidator:
    anchors = tuple(pki.ca_certificates("auth"))
    crls = CrlStore([str(p) for p in crl_paths], list(anchors))
    crls.load_all()
    return TokenValidator(anchors, RevocationSources([crls, OcspClient(url, timeout_s=2)],
                                                     soft_fail=soft_fail))


def unused_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/"


def test_a_good_answer_is_enough_without_crls_and_is_cached(card_pki, card, responder):
    check = validator(card_pki, responder.url)
    assert check.validate_certificate(auth_cert(card)).issuer == issuer_of(card_pki)
    check.validate_certificate(auth_cert(card))
    assert responder.requests == 1


def test_revoked_by_ocsp_refuses_even_when_a_crl_still_says_good(card_pki, card, responder):
    crl = card_pki.write_crl("auth", 2)            # published before the revocation
    card_pki.revoke(card.meta["auth_serial"])
    with pytest.raises(CertificateRevoked):
        validator(card_pki, responder.url, [crl]).validate_certificate(auth_cert(card))


def test_a_responder_that_is_down_refuses_without_a_fresh_crl(card_pki, card):
    with pytest.raises(RevocationUnavailable, match="no answer"):
        validator(card_pki, unused_port_url()).validate_certificate(auth_cert(card))


def test_a_fresh_crl_covers_for_a_responder_that_is_down(card_pki, card):
    crl = card_pki.write_crl("auth", 2)
    assert validator(card_pki, unused_port_url(), [crl]).validate_certificate(auth_cert(card))


def test_soft_fail_accepts_when_no_source_answers(card_pki, card):
    assert validator(card_pki, unused_port_url(), soft_fail=True).validate_certificate(auth_cert(card))


@pytest.mark.parametrize("options, reason", [
    ({"now": NOW - dt.timedelta(hours=3)}, "stale answer"),
    ({"now": NOW - dt.timedelta(hours=2), "next_update": None}, "stale answer"),
    ({"now": NOW + dt.timedelta(hours=1)}, "in the future"),
    ({"signer": "stranger"}, "the issuer did not issue"),
    ({"signer": "delegated-without-purpose"}, "OCSPSigning"),
    ({"nonce": b"\x00" * 16}, "nonce"),
    ({"refuse": "try_later"}, "TRY_LATER"),
    ({"refuse": "unauthorized"}, "UNAUTHORIZED"),
    ({"garbage": True}, "does not parse"),
    ({"http_status": "500 Internal Server Error"}, "no answer"),
])
def test_answers_that_do_not_count(card_pki, card, responder, options, reason):
    responder.options.update(options)
    with pytest.raises(RevocationUnavailable, match=reason):
        validator(card_pki, responder.url).validate_certificate(auth_cert(card))
    assert responder.requests == 1


def test_a_delegated_responder_certificate_is_accepted(card_pki, card, responder):
    responder.options["signer"] = "delegated"
    assert validator(card_pki, responder.url).validate_certificate(auth_cert(card))


def test_a_responder_without_a_nonce_is_accepted(card_pki, card, responder):
    responder.options["echo_nonce"] = False    # precomputed answers carry none
    assert validator(card_pki, responder.url).validate_certificate(auth_cert(card))


def test_a_certificate_the_responder_does_not_know(card_pki, responder):
    ca = card_pki.ca("auth", 2)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stray = (x509.CertificateBuilder().subject_name(ca.certificate.subject)
             .issuer_name(ca.certificate.subject).public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=1))
             .sign(ca.key, hashes.SHA256()))
    with pytest.raises(RevocationUnavailable, match="does not know"):
        OcspClient(responder.url).check(stray, ca.certificate)


def test_the_cache_ends_at_next_update(card_pki, card, responder):
    start = dt.datetime.now(dt.timezone.utc)   # the responder and the client share one clock
    clock = [start]
    client = OcspClient(responder.url, clock=lambda: clock[0])
    responder.options.update(now=start, next_update=dt.timedelta(minutes=2))
    client.check(auth_cert(card), issuer_of(card_pki))
    clock[0] = start + dt.timedelta(minutes=1)
    client.check(auth_cert(card), issuer_of(card_pki))
    assert responder.requests == 1
    card_pki.revoke(card.meta["auth_serial"])
    responder.options["now"] = clock[0] = start + dt.timedelta(minutes=3)
    with pytest.raises(CertificateRevoked):
        client.check(auth_cert(card), issuer_of(card_pki))
    assert responder.requests == 2


# -- configured in the portal ----------------------------------------------------------------

@pytest.fixture
def app_config(app_config, responder):
    """The portal with OCSP and no CRLs: only the responder can vouch."""
    return {**app_config, "CARD_CRLS": [], "CARD_OCSP_URL": responder.url}


@pytest.fixture
def city(make_city):
    return make_city("392049", "南国市")


@pytest.fixture
def hanako(make_resident, city):
    return make_resident(city, family="高知", given="花子", birth=dt.date(1990, 4, 1), address=HOME)


def test_login_checks_the_responder(card_client, issue_card, hanako, responder):
    response = card_client.login(issue_card())
    assert response.get_json()["status"] == "enrollment_required", response.get_data(as_text=True)
    assert responder.requests == 1


def test_login_refuses_a_certificate_revoked_by_ocsp(card_pki, card_client, issue_card, hanako):
    card = issue_card()
    card_pki.revoke(card.meta["auth_serial"])
    refused(card_client.login(card), "CertificateRevoked")


def test_login_says_try_later_when_the_responder_is_down(card_client, issue_card, hanako, responder):
    responder.options["http_status"] = "503 Service Unavailable"
    body = refused(card_client.login(issue_card()), "RevocationUnavailable", status=503)
    assert "しばらくしてから" in body["message"]


@pytest.mark.parametrize("word, expected", [("0", False), ("false", False), ("true", True), ("1", True)])
def test_soft_fail_from_the_environment_is_a_boolean(word, expected):
    config = load_config(environ={"MADOGUCHI_ENV": "development", "MADOGUCHI_CARD_CRL_SOFT_FAIL": word})
    assert config["CARD_CRL_SOFT_FAIL"] is expected


def test_soft_fail_refuses_a_word_it_cannot_read():
    with pytest.raises(ConfigError, match="CARD_CRL_SOFT_FAIL"):
        load_config(environ={"MADOGUCHI_ENV": "development", "MADOGUCHI_CARD_CRL_SOFT_FAIL": "maybe"})


def test_a_responder_speaking_broken_http_is_unavailable_not_an_error(card_pki, card):
    """http.client's own errors (bad status line, truncated body) are no OSError."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer_garbage():
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"NOT-HTTP garbage\r\n\r\n")
        connection.close()

    threading.Thread(target=answer_garbage, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    try:
        with pytest.raises(RevocationUnavailable, match="no answer"):
            validator(card_pki, url).validate_certificate(auth_cert(card))
    finally:
        listener.close()


def test_a_signing_serial_asked_under_the_auth_root_is_unknown(card_pki, card):
    """The test responder answers only for what that root issued (it once looked at the
    generation alone, and said 'good' for the signing certificate's serial)."""
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509 import ocsp
    from madoguchi_smartcard.testocsp import answer
    root = issuer_of(card_pki)
    probe = ocsp.OCSPRequestBuilder().add_certificate(root, root, hashes.SHA1()).build()
    serial = x509.load_der_x509_certificate(card.signing.certificate).serial_number
    request = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        probe.issuer_name_hash, probe.issuer_key_hash, serial, hashes.SHA1()).build()
    response = ocsp.load_der_ocsp_response(answer(card_pki, request.public_bytes(Encoding.DER)))
    assert response.certificate_status == ocsp.OCSPCertStatus.UNKNOWN


def test_the_ocsp_timeout_takes_fractions_and_refuses_words():
    environ = {"MADOGUCHI_ENV": "development", "MADOGUCHI_CARD_OCSP_TIMEOUT_S": "2.5"}
    assert load_config(environ=environ)["CARD_OCSP_TIMEOUT_S"] == 2.5
    with pytest.raises(ConfigError, match="CARD_OCSP_TIMEOUT_S"):
        load_config(environ={**environ, "MADOGUCHI_CARD_OCSP_TIMEOUT_S": "soon"})


def test_expired_answers_leave_the_cache(card_pki, card, responder):
    clock = [NOW]
    client = OcspClient(responder.url, clock=lambda: clock[0], cache_s=60)
    responder.options["now"] = NOW
    client.check(auth_cert(card), issuer_of(card_pki))
    other = card_pki.issue_card(name="照会　二郎", birth_date=dt.date(1982, 3, 4), address="香美市")
    clock[0] = responder.options["now"] = NOW + dt.timedelta(minutes=2)
    client.check(auth_cert(other), issuer_of(card_pki))
    assert len(client._cache) == 1          # the first card's answer expired and was dropped


def test_a_silent_responder_is_left_alone_for_a_minute(card_pki, card, responder):
    clock = [NOW]
    client = OcspClient(responder.url, clock=lambda: clock[0], retry_s=60)
    responder.options["http_status"] = "503 Service Unavailable"
    for _ in range(3):
        with pytest.raises(RevocationUnavailable):
            client.check(auth_cert(card), issuer_of(card_pki))
    assert responder.requests == 1          # asked once, not at every sign-in
    responder.options.clear()
    responder.options["now"] = clock[0] = NOW + dt.timedelta(seconds=61)
    client.check(auth_cert(card), issuer_of(card_pki))
    assert responder.requests == 2
