"""The municipality's signature on issued PDFs (公印の電子署名, PAdES via pyHanko).

Keys come from configuration, never from the database:

    CONVENIENCE_SIGNING_KEYS = {
        "392049": {"key": "/etc/madoguchi/nankoku-sign.key",      # PEM or DER, PKCS#8
                   "certificate": "/etc/madoguchi/nankoku-sign.pem",
                   "chain": ["/etc/madoguchi/lgpki-ca.pem"],          # optional
                   "passphrase_env": "NANKOKU_SIGN_PASSPHRASE",      # optional
                   "seal_image": "/etc/madoguchi/nankoku-seal.png"}} # optional 公印 image

The 公印 image a city configures itself (`settings["seal_image"]`, a reference inside the
operator's CITY_ASSETS_DIR, see portal/tenancy/assets.py) takes precedence over the key's.

A city without a key gets, in development and tests only, a self-signed key generated in
memory with a loud warning (`DevelopmentSigner`); in production issuing is refused.
"""
from __future__ import annotations

import functools
import io
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.pkcs11 import PKCS11Signer
from pyhanko.sign.general import SigningError, get_pyca_cryptography_hash
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathValidationError
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
from pyhanko_certvalidator.registry import SimpleCertificateStore

from services.convenience_issuance import hsm
from services.convenience_issuance.hsm import TokenKey

log = logging.getLogger("madoguchi.convenience_issuance")

SIGNATURE_FIELD = "MunicipalSeal"


class SigningUnavailable(RuntimeError):
    """No signing key is configured for this municipality (production refuses to issue)."""


class TimestampUnavailable(SigningUnavailable):
    """The time-stamping authority (or the revocation data the signature must carry) could
    not be had: the certificate is not issued rather than issued without a time."""


@dataclass(frozen=True)
class TrustServices:
    """Where a signature gets its time and its validation data (PAdES B-LTA): the TSA's
    URL (`MADOGUCHI_TSA_URL`) and the roots that certify the TSA and the signing chain
    (`MADOGUCHI_TSA_TRUST_ROOTS`, PEM files), which pyHanko needs to collect revocation
    data for the DSS."""
    tsa_url: str
    trust_roots: tuple[bytes, ...] = ()
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config) -> "TrustServices | None":
        url = config.get("TSA_URL")
        if not url:
            return None
        roots = config.get("TSA_TRUST_ROOTS") or []
        return cls(url, tuple(Path(p).read_bytes() for p in roots),
                   float(config.get("TSA_TIMEOUT_SECONDS") or 10.0))


@dataclass(frozen=True)
class MunicipalKey:
    """A city's signing key and certificate, PEM bytes (and its optional 公印 image path)."""
    key_pem: bytes
    certificate_pem: bytes
    chain_pem: tuple[bytes, ...] = ()
    passphrase: bytes | None = None
    seal_image: str | None = None
    development: bool = False
    token: TokenKey | None = None   # the key is in an HSM (key_pem is then empty)


def generate_municipal_key(city_name: str, code: str, days: int = 3650) -> MunicipalKey:
    """A self-signed municipal signing certificate (tests and development only)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, city_name),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"{city_name}長 ({code}) 公印")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return MunicipalKey(key_pem, cert.public_bytes(serialization.Encoding.PEM), development=True)


def load_municipal_key(entry: dict) -> MunicipalKey:
    """Read one CONVENIENCE_SIGNING_KEYS entry: a key file, or a key in a PKCS#11 token."""
    if "pkcs11" in entry:
        token = hsm.token_key(entry["pkcs11"])
        return MunicipalKey(b"", hsm.certificate_pem(token),
                            tuple(Path(p).read_bytes() for p in entry.get("chain", [])),
                            None, entry.get("seal_image"), token=token)
    passphrase_env = entry.get("passphrase_env")
    passphrase = os.environ[passphrase_env].encode() if passphrase_env else None
    return MunicipalKey(Path(entry["key"]).read_bytes(), Path(entry["certificate"]).read_bytes(),
                        tuple(Path(p).read_bytes() for p in entry.get("chain", [])),
                        passphrase, entry.get("seal_image"))


class KeyRing:
    """Signing keys by municipality code, loaded once; development keys made on demand."""

    def __init__(self, config: dict, allow_development: bool) -> None:
        self._entries = dict(config or {})
        self._allow_development = allow_development
        self._keys: dict[str, MunicipalKey] = {}

    def key_for(self, code: str, city_name: str) -> MunicipalKey:
        if code not in self._keys:
            self._keys[code] = self._load(code, city_name)
        return self._keys[code]

    def _load(self, code: str, city_name: str) -> MunicipalKey:
        if code in self._entries:
            try:
                return load_municipal_key(self._entries[code])
            except hsm.TokenProblem as exc:  # a 503 for the terminal, the reason in the log
                log.error("convenience_issuance: signing key of %s unusable: %s", code, exc)
                raise SigningUnavailable(str(exc)) from None
        if not self._allow_development:
            raise SigningUnavailable(f"no signing key configured for municipality {code}")
        log.warning("convenience_issuance: NO SIGNING KEY for %s — using a self-signed "
                    "development key; certificates issued now are not trustworthy", code)
        return generate_municipal_key(city_name, code)

    def add(self, code: str, key: MunicipalKey) -> None:
        """Install a key (tests, or a CLI that rotates keys)."""
        self._keys[code] = key


class MunicipalSigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner re-parses (and re-checks) the RSA key for every signature,
    which costs more than the signature itself; this one keeps the parsed key."""

    def __init__(self, *args, rsa_key: rsa.RSAPrivateKey, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._rsa_key = rsa_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if mechanism != "rsassa_pkcs1v15":
            return super().sign_raw(data, digest_algorithm)
        return self._rsa_key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


@functools.lru_cache(maxsize=64)
def signer_for(key: MunicipalKey) -> signers.SimpleSigner:
    """Parsed once per key: loading (and checking) an RSA key costs more than signing.
    A key in a token signs there (pyHanko's PKCS11Signer, one session per process)."""
    if key.token is not None:
        return PKCS11Signer(hsm.session(key.token), key_label=key.token.label,
                            signing_cert=next(iter(load_certs_from_pemder_data(key.certificate_pem))),
                            other_certs_to_pull=None,
                            ca_chain=[c for pem in key.chain_pem for c in load_certs_from_pemder_data(pem)])
    signing_key = load_private_key_from_pemder_data(key.key_pem, passphrase=key.passphrase)
    (certificate,) = list(load_certs_from_pemder_data(key.certificate_pem))[:1]
    chain = [c for pem in key.chain_pem for c in load_certs_from_pemder_data(pem)]
    store = SimpleCertificateStore.from_certs(chain)
    parsed = serialization.load_der_private_key(signing_key.dump(), password=None)
    if isinstance(parsed, rsa.RSAPrivateKey):
        return MunicipalSigner(signing_cert=certificate, signing_key=signing_key,
                               cert_registry=store, rsa_key=parsed)
    return signers.SimpleSigner(signing_cert=certificate, signing_key=signing_key,
                                cert_registry=store)


def sign_pdf(pdf: bytes, key: MunicipalKey, city_name: str,
             trust: TrustServices | None = None) -> bytes:
    """Apply the municipality's PAdES signature to `pdf`: B-LTA with `trust` (a signature
    time-stamp, the chains' revocation data in the DSS, then a document time-stamp), so it
    still verifies after the signing certificate expires; B-B without (development)."""
    signer = signer_for(key)
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256",
        name=f"{city_name}長", reason="証明書の交付（コンビニ交付）", location=city_name,
        embed_validation_info=trust is not None, use_pades_lta=trust is not None,
        validation_context=validation_context(key, trust) if trust else None)
    timestamper = HTTPTimeStamper(trust.tsa_url, timeout=trust.timeout) if trust else None
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    try:
        output = signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper)
    except (TimestampRequestError, SigningError, PathValidationError, OSError) as exc:
        log.error("convenience_issuance: no time-stamp or validation data for %s: %s", city_name, exc)
        raise TimestampUnavailable(str(exc)) from exc
    return output.getvalue()


def validation_context(key: MunicipalKey, trust: TrustServices) -> ValidationContext:
    """Trust as a verifier will have it: the configured roots, the chain's last certificate
    (or the self-signed certificate itself), revocation data fetched now (and required)."""
    own = list(load_certs_from_pemder_data(key.certificate_pem))
    chain = [c for pem in key.chain_pem for c in load_certs_from_pemder_data(pem)]
    roots = [c for pem in trust.trust_roots for c in load_certs_from_pemder_data(pem)]
    roots += [c for c in own + chain if c.self_signed]
    return ValidationContext(trust_roots=roots, other_certs=chain, allow_fetching=True,
                             revocation_mode="hard-fail",
                             fetcher_backend=RequestsFetcherBackend(per_request_timeout=trust.timeout))
