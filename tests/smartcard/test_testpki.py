"""The test PKI issues JPKI-shaped certificates, revokes them and publishes CRLs."""

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import ExtensionOID, NameOID

from madoguchi_smartcard import constants as c
from madoguchi_smartcard import errors
from madoguchi_smartcard.identity import decode_birth_date, encode_birth_date, parse_signing_identity
from madoguchi_smartcard.testpki import TestPKI, build_crl_der, fifth_birthday_after, my_number_check_digit


def load(der):
    return x509.load_der_x509_certificate(der)


def issued_by(cert, ca_cert):
    try:
        ca_cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                                    cert.signature_hash_algorithm)
    except Exception:
        return False
    return True


def test_two_root_generations_share_one_dn_and_only_one_signed_the_card(pki, issued):
    g1, g2 = pki.ca_certificates("auth")
    assert g1.subject == g2.subject and "O=JPKI-TEST" in g1.subject.rfc4514_string()
    assert g1.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == \
        "JPKI for user authentication"
    cert = load(issued.auth.certificate)
    assert issued_by(cert, g2) and not issued_by(cert, g1)
    assert g2.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_auth_certificate_carries_no_personal_data(issued):
    cert = load(issued.auth.certificate)
    assert [a.oid for a in cert.subject] == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    assert "山田" not in cert.subject.rfc4514_string()
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.content_commitment
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier.dotted_string for p in policies] == [c.OID_AUTH_POLICY]
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    ian = cert.extensions.get_extension_for_oid(ExtensionOID.ISSUER_ALTERNATIVE_NAME).value
    assert "公的個人認証サービス" in ian.get_values_for_type(x509.DirectoryName)[0].rfc4514_string()
    assert cert.not_valid_after_utc.date() == dt.date(cert.not_valid_before_utc.year + 5, 4, 1) or \
        cert.not_valid_after_utc.date().month == 4


def test_signing_certificate_profile_and_identity(issued):
    cert = load(issued.signing.certificate)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies)
    assert policies.critical and policies.value[0].policy_identifier.dotted_string == c.OID_SIGN_POLICY
    dp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value[0]
    assert "OU=Chiyoda-ku" in dp.full_name[0].value.rfc4514_string()
    identity = parse_signing_identity(cert)
    assert identity[:4] == ("山田　太郎", "1", dt.date(1985, 4, 1), "東京都千代田区千代田１－１")
    assert (identity.name_substitutes, identity.address_substitutes) == ("", "")
    assert not identity.has_substitutes
    names = {o.type_id.dotted_string for o in cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.OtherName)}
    assert names == {f"1.2.392.200149.8.5.5.{n}" for n in range(1, 7)}   # all six otherNames
    assert parse_signing_identity(issued.signing.certificate).birth_date == dt.date(1985, 4, 1)


def test_other_name_is_oid_and_explicit_utf8_string(issued):
    san = load(issued.signing.certificate).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    raw = san.value.get_values_for_type(x509.OtherName)[0].value
    assert raw[0] == 0x0C and raw[2:].decode() == "山田　太郎"


@pytest.mark.parametrize("born, encoded", [
    (dt.date(1912, 7, 29), "119120729"), (dt.date(1912, 7, 30), "219120730"),
    (dt.date(1985, 4, 1), "319850401"), (dt.date(1989, 1, 8), "419890108"),
    (dt.date(2019, 5, 1), "520190501"),
])
def test_birth_date_era_digit(born, encoded):
    assert encode_birth_date(born) == encoded and decode_birth_date(encoded) == born


def test_unknown_birth_date_and_garbage():
    assert decode_birth_date("000000000") is None
    with pytest.raises(errors.UnexpectedAnswer):
        decode_birth_date("3198504")


def test_expiry_is_the_fifth_birthday_after_issue():
    assert fifth_birthday_after(dt.date(2026, 11, 28), dt.date(1985, 4, 1)) == dt.date(2031, 4, 1)
    assert fifth_birthday_after(dt.date(2026, 11, 28), dt.date(1985, 12, 15)) == dt.date(2030, 12, 15)
    assert fifth_birthday_after(dt.date(2026, 1, 1), dt.date(2000, 2, 29)) == dt.date(2030, 3, 1)


def test_card_without_signing_certificate(pki):
    child = pki.issue_card(name="山田　一郎", birth_date=dt.date(2015, 6, 1), address="東京都", with_signing=False)
    assert child.signing is None and child.meta["signing_serial"] is None


def test_my_number_check_digit():
    assert my_number_check_digit("12345678901") == "8"


def test_revocation_appears_in_the_partition_crl_only(pki, issued_other, issued):
    pki.revoke(issued_other.meta["auth_serial"])
    partition = pki.write_crl("auth", 2, ("Osaka-fu", "Osaka-shi"))
    other = pki.write_crl("auth", 2, ("Tokyo-to", "Chiyoda-ku"))
    ca_key = pki.ca("auth").certificate.public_key()
    crl = x509.load_der_x509_crl(partition.read_bytes())
    assert crl.is_signature_valid(ca_key)
    assert crl.get_revoked_certificate_by_serial_number(issued_other.meta["auth_serial"]) is not None
    idp = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint).value
    assert "Osaka-shi" in idp.full_name[0].value.rfc4514_string()
    assert len(x509.load_der_x509_crl(other.read_bytes())) == 0
    assert TestPKI.open(pki.directory).revocations("auth")[0].serial == issued_other.meta["auth_serial"]


def test_hand_written_big_crl_loads_and_verifies(pki, issued, tmp_path):
    pki.revoke(issued.meta["signing_serial"])
    path = pki.write_big_crl(tmp_path / "big.crl", 20_000, kind="signing")
    crl = x509.load_der_x509_crl(path.read_bytes())
    assert len(crl) == 20_001
    assert crl.is_signature_valid(pki.ca("signing").certificate.public_key())
    assert crl.get_revoked_certificate_by_serial_number(issued.meta["signing_serial"]) is not None
    assert crl.issuer == pki.ca("signing").certificate.subject
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > 0


def test_empty_hand_written_crl(pki):
    now = dt.datetime.now(dt.timezone.utc)
    ca = pki.ca("auth")
    der = build_crl_der(ca.certificate.subject, ca.key, [], filler=0, this_update=now,
                        next_update=now + dt.timedelta(days=1), crl_number=1)
    crl = x509.load_der_x509_crl(der)
    assert len(crl) == 0 and crl.is_signature_valid(ca.certificate.public_key())


def test_substitute_character_positions_are_carried(pki):
    issued = pki.issue_card(name="高知　花子", birth_date=dt.date(1990, 4, 1), sex="2",
                            address="高知県南国市大そね1番地", name_substitutes="1",
                            address_substitutes="4,5")
    identity = parse_signing_identity(issued.signing.certificate)
    assert (identity.name_substitutes, identity.address_substitutes) == ("1", "4,5")
    assert identity.has_substitutes
