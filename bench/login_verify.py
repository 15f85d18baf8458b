"""Card-token validation rate with a 1,000,000-entry CRL loaded, beside the raw RSA-2048
verification rate measured in the same run (the ratio is the figure); CRL load time and
memory.

    python bench/login_verify.py [--entries 1000000] [--seconds 5]

One process, one thread: "per core". Memory is tracemalloc's peak while loading the CRL
(Python allocations: the serial set and the parsed CRL)."""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import tempfile
import time
import tracemalloc
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from portal.cards.revocation import CrlStore
from portal.cards.validation import TokenValidator, parse_token, signed_data
from smartcard.jpki import JPKICard
from smartcard.testpki import TestPKI
from smartcard.transport import InProcessTransport
from smartcard.virtual import VirtualMyNumberCard
from portal.cards.validation import TOKEN_FORMAT

ORIGIN, NONCE = "https://portal.example.jp", "bench-nonce-0123456789abcdef"


def token_from(result) -> dict:
    """The token the card bridge would post."""
    encode = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return {"format": TOKEN_FORMAT, "algorithm": "RS256",
            "certificate": encode(result.certificate), "signature": encode(result.signature)}


def rate(work, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        work()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pki = TestPKI.create(Path(tmp) / "pki")
        card = pki.issue_card(name="計測　太郎", birth_date=dt.date(1980, 1, 1), address="南国市")
        started = time.perf_counter()
        crl_path = pki.write_big_crl(Path(tmp) / "big.crl", args.entries)
        written = time.perf_counter() - started
        crl_mib = crl_path.stat().st_size / 2**20
        anchors = tuple(pki.ca_certificates("auth"))

        tracemalloc.start()
        started = time.perf_counter()
        store = CrlStore([str(crl_path)], list(anchors))
        store.load_all()
        load_seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        transport = InProcessTransport(VirtualMyNumberCard(card))
        transport.connect()
        token = token_from(JPKICard(transport).login("1234", signed_data(ORIGIN, NONCE)))
        validator = TokenValidator(anchors, store)
        validator.validate(parse_token(token), ORIGIN, NONCE)  # it must pass before timing

        cert = x509.load_der_x509_certificate(card.auth.certificate)
        signature = parse_token(token).signature
        data = signed_data(ORIGIN, NONCE)
        raw = rate(lambda: cert.public_key().verify(signature, data, padding.PKCS1v15(),
                                                    hashes.SHA256()), args.seconds)
        full = rate(lambda: validator.validate(parse_token(token), ORIGIN, NONCE), args.seconds)

    print(f"CRL entries: {args.entries:,} ({crl_mib:.1f} MiB DER, written in {written:.2f} s)")
    print(f"CRL load + signature check + index: {load_seconds:.2f} s, peak Python memory {peak / 2**20:.0f} MiB")
    print(f"raw RSA-2048 PKCS#1 v1.5 verifications: {raw:,.0f} /s")
    print(f"full token validations (shape, chain, validity, CRL, signature): {full:,.0f} /s")
    print(f"ratio full/raw: {full / raw:.3f}  (one validation costs {raw / full:.2f} raw verifications)")


if __name__ == "__main__":
    main()
