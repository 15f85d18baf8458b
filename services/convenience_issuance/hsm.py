"""The city's 公印 key in a hardware security module, through PKCS#11 (python-pkcs11;
SoftHSM2 in tests and the demo). The private key never leaves the token: it is generated
there (or imported once and marked non-extractable) and pyHanko's PKCS11Signer asks the
token to sign.

A CONVENIENCE_SIGNING_KEYS entry that uses a token:

    "392049": {"pkcs11": {"module": "/usr/lib/softhsm/libsofthsm2.so", "token": "madoguchi",
                          "label": "392049-202611", "pin_env": "MADOGUCHI_HSM_PIN"}}
                                                   # or "pin_file": "/run/secrets/hsm-pin"

The PIN comes from the environment or a file, never from the database, and is never
logged or shown (`TokenKey` leaves it out of its repr). Rotation makes a new key under a
new label and leaves the old one in the token: certificates signed with it keep their
own certificate embedded and keep verifying."""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from asn1crypto import algos, keys as asn1_keys, pem, x509 as asn1_x509


class TokenProblem(RuntimeError):
    """The token, its PIN or a key on it cannot be used; the message names which."""


@dataclass(frozen=True)
class TokenKey:
    """Which key on which token; the PIN is kept out of repr (and so out of logs)."""
    module: str
    token: str
    label: str
    pin: str = field(repr=False)


def pin_from(entry: dict) -> str:
    """The user PIN named by an entry: `pin_env` (a variable's name) or `pin_file`."""
    if entry.get("pin_env"):
        pin = os.environ.get(entry["pin_env"])
        if not pin:
            raise TokenProblem(f"トークンの PIN がありません / environment variable {entry['pin_env']} is not set")
        return pin
    if entry.get("pin_file"):
        try:
            return Path(entry["pin_file"]).read_text().strip()
        except OSError as exc:
            raise TokenProblem(f"PIN ファイルを読めません / cannot read {entry['pin_file']}: {exc.strerror}") from None
    raise TokenProblem("pin_env か pin_file を指定してください / give pin_env or pin_file")


def token_key(entry: dict) -> TokenKey:
    return TokenKey(entry["module"], entry["token"], entry["label"], pin_from(entry))


@functools.lru_cache(maxsize=16)
def session_for(module: str, token: str, pin: str):
    """One open session per token and process (opening one costs a login)."""
    import pkcs11
    try:
        return pkcs11.lib(module).get_token(token_label=token).open(user_pin=pin, rw=True)
    except pkcs11.exceptions.PinIncorrect:
        raise TokenProblem(f"トークン {token} の PIN が違います / wrong PIN for token {token}") from None
    except (pkcs11.exceptions.NoSuchToken, pkcs11.exceptions.PKCS11Error, RuntimeError) as exc:
        raise TokenProblem(f"トークン {token} を開けません / cannot open token {token}: "
                           f"{type(exc).__name__}") from None


def session(key: TokenKey):
    return session_for(key.module, key.token, key.pin)


def certificate_pem(key: TokenKey) -> bytes:
    """The certificate stored beside the key under the same label."""
    from pkcs11 import Attribute, ObjectClass
    found = list(session(key).get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE,
                                           Attribute.LABEL: key.label}))
    if not found:
        raise TokenProblem(f"トークンに証明書 {key.label} がありません / no certificate {key.label} on the token")
    return pem.armor("CERTIFICATE", found[0][Attribute.VALUE])


def create_key(key: TokenKey, city_name: str, code: str, days: int = 3650) -> bytes:
    """Generate an RSA-2048 key inside the token (non-extractable), certify it with a
    self-signed certificate signed by the token, store that beside it; returns its PEM.
    A city would send the key for certification to its CA (LGPKI) instead."""
    from pkcs11 import Attribute, KeyType
    public, private = session(key).generate_keypair(
        KeyType.RSA, 2048, label=key.label, id=key.label.encode(), store=True,
        private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False})
    certificate = _self_signed(public, private, city_name, code, days)
    _store_certificate(key, certificate)
    return pem.armor("CERTIFICATE", certificate.dump())


def import_key(key: TokenKey, key_pem: bytes, cert_pem: bytes) -> None:
    """Put an existing key (PKCS#8 PEM, unencrypted) and its certificate on the token; the
    key becomes non-extractable there. Delete the file afterwards."""
    from pkcs11 import Attribute
    from pkcs11.util.rsa import decode_rsa_private_key
    info = asn1_keys.PrivateKeyInfo.load(pem.unarmor(key_pem)[2])
    attributes = decode_rsa_private_key(info["private_key"].parsed.dump())
    attributes.update({Attribute.LABEL: key.label, Attribute.ID: key.label.encode(),
                       Attribute.TOKEN: True, Attribute.SENSITIVE: True,
                       Attribute.EXTRACTABLE: False})
    session(key).create_object(attributes)
    _store_certificate(key, asn1_x509.Certificate.load(pem.unarmor(cert_pem)[2]))


def list_keys(module: str, token: str, pin: str) -> list[tuple[str, str, datetime]]:
    """(label, subject, not after) of every certificate on the token, oldest first."""
    from pkcs11 import Attribute, ObjectClass
    rows = []
    for obj in session_for(module, token, pin).get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
        certificate = asn1_x509.Certificate.load(obj[Attribute.VALUE])
        rows.append((obj[Attribute.LABEL], certificate.subject.human_friendly,
                     certificate.not_valid_after))
    return sorted(rows, key=lambda row: row[2])


def _store_certificate(key: TokenKey, certificate: asn1_x509.Certificate) -> None:
    from pkcs11 import Attribute, CertificateType, ObjectClass
    session(key).create_object({
        Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
        Attribute.TOKEN: True, Attribute.LABEL: key.label, Attribute.ID: key.label.encode(),
        Attribute.SUBJECT: certificate.subject.dump(), Attribute.VALUE: certificate.dump()})


def _self_signed(public, private, city_name: str, code: str, days: int) -> asn1_x509.Certificate:
    from pkcs11 import Mechanism
    from pkcs11.util.rsa import encode_rsa_public_key
    name = asn1_x509.Name.build({"country_name": "JP", "organization_name": city_name,
                                 "common_name": f"{city_name}長 ({code}) 公印"})
    now = datetime.now(timezone.utc).replace(microsecond=0)
    algorithm = algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"})
    spki = asn1_keys.PublicKeyInfo({"algorithm": {"algorithm": "rsa"},
                                    "public_key": asn1_keys.RSAPublicKey.load(encode_rsa_public_key(public))})
    tbs = asn1_x509.TbsCertificate({
        "version": "v3", "serial_number": int.from_bytes(os.urandom(15), "big"),
        "signature": algorithm, "issuer": name, "subject": name,
        "validity": {"not_before": asn1_x509.Time({"utc_time": now - timedelta(days=1)}),
                     "not_after": asn1_x509.Time({"general_time": now + timedelta(days=days)})},
        "subject_public_key_info": spki,
        "extensions": [
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": True}},
            {"extn_id": "key_usage", "critical": True,
             "extn_value": {"digital_signature", "non_repudiation", "key_cert_sign"}}]})
    signature = private.sign(tbs.dump(), mechanism=Mechanism.SHA256_RSA_PKCS)
    return asn1_x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": algorithm,
                                  "signature_value": signature})
