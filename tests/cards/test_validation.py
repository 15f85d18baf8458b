"""The validator's steps one by one, with a fixed clock and explicit CRL sources."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.cards.errors import (CertificateExpired, CertificateNotYetValid, CertificateRevoked,
                                 RevocationUnavailable, UntrustedCertificate,
                                 WrongCertificateType)
from portal.cards.revocation import CrlStore, RevocationSources
from portal.cards.validation import SIGNING_POLICY_OID, TokenValidator

NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture(autouse=True, scope="module")
def _now(card_pki):
    """'Now' is taken when these tests run, after the test PKI was made: taken at import, a
    long run made the PKI's certificates look not yet valid."""
    global NOW
    NOW = dt.datetime.now(dt.timezone.utc)


def auth_cert(profile) -> x509.Certificate:
    return x509.load_der_x509_certificate(profile.auth.certificate)


def validator(pki, crl_paths, clock=lambda: NOW, soft_fail=False, **options) -> TokenValidator:
    anchors = tuple(pki.ca_certificates("auth"))
    store = CrlStore([str(p) for p in crl_paths], list(anchors), clock=clock)
    store.load_all()
    return TokenValidator(anchors, RevocationSources([store], soft_fail=soft_fail), clock=clock,
                          **options)


def whole_crls(pki) -> list[Path]:
    return [pki.write_crl("auth", g) for g in (1, 2)]


@pytest.fixture
def card(card_pki):
    return card_pki.issue_card(name="検証　一郎", birth_date=dt.date(1980, 1, 2),
                               address="高知県香南市野市町1")


def test_a_good_certificate_passes(card_pki, card):
    checked = validator(card_pki, whole_crls(card_pki)).validate_certificate(auth_cert(card))
    assert checked.issuer.subject == card_pki.ca("auth", 2).certificate.subject


def test_the_generation_is_chosen_by_signature(card_pki):
    old = card_pki.issue_card(name="旧　世代", birth_date=dt.date(1970, 5, 5), address="x", generation=1)
    checked = validator(card_pki, whole_crls(card_pki)).validate_certificate(auth_cert(old))
    assert checked.issuer == card_pki.ca("auth", 1).certificate
    assert card_pki.ca("auth", 1).certificate.subject == card_pki.ca("auth", 2).certificate.subject


def test_expired(card_pki, card):
    after = auth_cert(card).not_valid_after_utc + dt.timedelta(days=1)
    with pytest.raises(CertificateExpired):
        validator(card_pki, whole_crls(card_pki), clock=lambda: after).validate_certificate(auth_cert(card))


def test_not_yet_valid(card_pki, card):
    before = auth_cert(card).not_valid_before_utc - dt.timedelta(days=1)
    with pytest.raises(CertificateNotYetValid):
        validator(card_pki, whole_crls(card_pki), clock=lambda: before).validate_certificate(auth_cert(card))


def test_unknown_ca(card_pki):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = card_pki.ca("auth", 2).certificate.subject  # same DN, different key: a forgery
    leaf = auth_cert(card_pki.issue_card(name="偽　造", birth_date=dt.date(1990, 1, 1), address="x"))
    forged = (x509.CertificateBuilder().subject_name(leaf.subject).issuer_name(name)
              .public_key(leaf.public_key()).serial_number(leaf.serial_number)
              .not_valid_before(leaf.not_valid_before_utc).not_valid_after(leaf.not_valid_after_utc))
    for ext in leaf.extensions:
        forged = forged.add_extension(ext.value, ext.critical)
    forged = forged.sign(key, hashes.SHA256())
    with pytest.raises(UntrustedCertificate):
        validator(card_pki, whole_crls(card_pki)).validate_certificate(forged)


def test_signing_certificate_fails_the_auth_policy(card_pki, card):
    signing = x509.load_der_x509_certificate(card.signing.certificate)
    with pytest.raises(WrongCertificateType):
        validator(card_pki, whole_crls(card_pki)).validate_certificate(signing)


def test_policy_is_configurable(card_pki, card):
    strict = validator(card_pki, whole_crls(card_pki), policy_oids=frozenset({SIGNING_POLICY_OID}))
    with pytest.raises(WrongCertificateType):
        strict.validate_certificate(auth_cert(card))


def test_revoked_in_its_partition(card_pki):
    partition = ("Kochi-ken", "Konan-shi")
    card = card_pki.issue_card(name="失効　花子", birth_date=dt.date(1992, 3, 3), address="x",
                               partition=partition)
    card_pki.revoke(card.meta["auth_serial"])
    crl = card_pki.write_crl("auth", 2, partition)
    with pytest.raises(CertificateRevoked):
        validator(card_pki, [crl]).validate_certificate(auth_cert(card))


def test_stale_crl_refuses(card_pki, card):
    stale = card_pki.write_crl("auth", 2, now=NOW - dt.timedelta(days=3),
                               next_update=dt.timedelta(days=1))
    with pytest.raises(RevocationUnavailable):
        validator(card_pki, [stale]).validate_certificate(auth_cert(card))


def test_missing_crl_refuses_unless_soft_fail(card_pki, card):
    with pytest.raises(RevocationUnavailable):
        validator(card_pki, []).validate_certificate(auth_cert(card))
    assert validator(card_pki, [], soft_fail=True).validate_certificate(auth_cert(card))


def test_a_login_never_fetches_the_crl_the_refresher_does(card_pki, card, tmp_path):
    path = tmp_path / "auth.crl"
    card_pki.write_crl("auth", 2, now=NOW - dt.timedelta(hours=2),
                       next_update=dt.timedelta(hours=1), path=path)
    anchors = tuple(card_pki.ca_certificates("auth"))
    store = CrlStore([str(path)], list(anchors), clock=lambda: NOW)
    store.load_all()
    check = TokenValidator(anchors, RevocationSources([store]), clock=lambda: NOW)
    card_pki.revoke(card.meta["auth_serial"])
    card_pki.write_crl("auth", 2, path=path)  # the publisher's new CRL
    with pytest.raises(RevocationUnavailable):  # stale data refuses; the login does not download
        check.validate_certificate(auth_cert(card))
    store.refresh()                             # the background refresh (cron, start-up)
    with pytest.raises(CertificateRevoked):
        check.validate_certificate(auth_cert(card))


def test_crl_signed_by_someone_else_is_ignored(card_pki, card, tmp_path):
    signing_crl = card_pki.write_crl("signing", 2, path=tmp_path / "foreign.crl")
    with pytest.raises(RevocationUnavailable):
        validator(card_pki, [signing_crl]).validate_certificate(auth_cert(card))


def test_an_empty_trust_list_is_refused(card_pki):
    with pytest.raises(ValueError):
        TokenValidator((), CrlStore([], []))
