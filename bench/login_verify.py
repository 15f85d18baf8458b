"""Card-token validation rate with a 1,000,000-entry CRL, beside the raw RSA-2048
verification rate measured in the same run (the ratio is the figure, printed last); the
CRL refresh beside cryptography's bare parse of the same file; memory for 1, 2 and 4
workers sharing one index.

    python bench/login_verify.py [--entries 1000000] [--seconds 5] [--workers 1,2,4]

Rates are one process, one thread: "per core"; the raw and full rates are measured in
alternating slices so that both see the same load on a shared machine. The refresh (fetch, signature check,
serials indexed and written) runs once for all workers, outside any request; a worker only
maps the index file. Refresh memory is tracemalloc's peak (Python allocations). Worker
memory is read from /proc/self/smaps: the index mapping's resident size (Rss) and its
proportional share (Pss: pages shared by N workers count 1/N each), and the worker's
private memory (USS) after validating for --seconds."""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import multiprocessing
import tempfile
import time
import tracemalloc
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding

from portal.cards.revocation import CrlStore, RevocationSources
from portal.cards.validation import TOKEN_FORMAT, TokenValidator, parse_token, signed_data
from madoguchi_smartcard.jpki import JPKICard
from madoguchi_smartcard.testpki import TestPKI
from madoguchi_smartcard.transport import InProcessTransport
from madoguchi_smartcard.virtual import VirtualMyNumberCard

ORIGIN, NONCE = "https://portal.example.jp", "bench-nonce-0123456789abcdef"
MIB = 2**20


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


def paired_rates(first, second, seconds: float, slices: int = 20) -> tuple[float, float]:
    """Both rates, measured in alternating slices: on a shared machine whose load comes
    and goes, each sees the same load, so their ratio holds even when the times do not."""
    rates = [(rate(first, seconds / slices / 2), rate(second, seconds / slices / 2))
             for _ in range(slices)]
    return (sum(a for a, _ in rates) / slices, sum(b for _, b in rates) / slices)


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def smaps(index_dir: str) -> dict[str, float]:
    """This process's private memory, and the index mapping's Rss and Pss, in MiB."""
    totals = {"uss": 0.0, "index_rss": 0.0, "index_pss": 0.0}
    in_index = False
    with open("/proc/self/smaps") as lines:
        for line in lines:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:      # a mapping's header line
                in_index = len(fields) >= 6 and fields[5].startswith(index_dir)
            elif fields[0] in ("Private_Clean:", "Private_Dirty:"):
                totals["uss"] += int(fields[1]) / 1024
            elif in_index and fields[0] == "Rss:":
                totals["index_rss"] += int(fields[1]) / 1024
            elif in_index and fields[0] == "Pss:":
                totals["index_pss"] += int(fields[1]) / 1024
    return totals


def worker(setup: dict, seconds: float, start, results) -> None:
    """One portal worker: maps the shared index, validates tokens for `seconds`."""
    anchors = tuple(x509.load_der_x509_certificate(der) for der in setup["anchors"])
    store = CrlStore([setup["crl"]], list(anchors), cache_dir=Path(setup["index"]))
    validator = TokenValidator(anchors, RevocationSources([store]))
    validator.validate(parse_token(setup["token"]), ORIGIN, NONCE)
    start.wait()
    done = rate(lambda: validator.validate(parse_token(setup["token"]), ORIGIN, NONCE), seconds)
    results.put({"rate": done, **smaps(setup["index"])})


def workers(setup: dict, count: int, seconds: float) -> list[dict]:
    context = multiprocessing.get_context("spawn")    # nothing inherited: each maps the index itself
    start, results = context.Barrier(count + 1), context.Queue()
    processes = [context.Process(target=worker, args=(setup, seconds, start, results))
                 for _ in range(count)]
    for process in processes:
        process.start()
    start.wait()
    found = [results.get() for _ in processes]
    for process in processes:
        process.join()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pki = TestPKI.create(Path(tmp) / "pki")
        card = pki.issue_card(name="計測　太郎", birth_date=dt.date(1980, 1, 1), address="南国市")
        started = time.perf_counter()
        crl_path = pki.write_big_crl(Path(tmp) / "big.crl", args.entries)
        written = time.perf_counter() - started
        crl_mib = crl_path.stat().st_size / MIB
        anchors = tuple(pki.ca_certificates("auth"))
        print(f"CRL entries: {args.entries:,} ({crl_mib:.1f} MiB DER, written in {written:.2f} s)")

        data = crl_path.read_bytes()
        bare = timed(lambda: x509.load_der_x509_crl(data))
        index_dir = Path(tmp) / "index"
        refresher = CrlStore([str(crl_path)], list(anchors), cache_dir=index_dir)
        refresh = timed(refresher.refresh)
        tracemalloc.start()
        refresher.refresh(force=True)
        _, refresh_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        index_mib = sum(p.stat().st_size for p in index_dir.glob("*.crlidx")) / MIB
        print(f"bare parse (cryptography load_der_x509_crl): {bare:.2f} s")
        print(f"refresh (read, parse, signature, index, write; once for all workers): {refresh:.2f} s, "
              f"peak Python memory {refresh_peak / MIB:.0f} MiB, index file {index_mib:.1f} MiB")

        transport = InProcessTransport(VirtualMyNumberCard(card))
        transport.connect()
        token = token_from(JPKICard(transport).login("1234", signed_data(ORIGIN, NONCE)))
        store = CrlStore([str(crl_path)], list(anchors), cache_dir=index_dir)
        validator = TokenValidator(anchors, RevocationSources([store]))
        tracemalloc.start()
        attach = timed(lambda: validator.validate(parse_token(token), ORIGIN, NONCE))  # must pass
        _, attach_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"worker attach (map the index) + first validation: {attach * 1000:.1f} ms, "
              f"peak Python memory {attach_peak / MIB:.2f} MiB")

        setup = {"anchors": [a.public_bytes(Encoding.DER) for a in anchors],
                 "crl": str(crl_path), "index": str(index_dir), "token": token}
        for count in (int(n) for n in args.workers.split(",") if n):
            found = workers(setup, count, min(args.seconds, 3.0))
            total = sum(f["rate"] for f in found)
            print(f"{count} worker(s): {total:,.0f} validations/s together; per worker "
                  f"private {max(f['uss'] for f in found):.0f} MiB, index mapping Rss "
                  f"{max(f['index_rss'] for f in found):.1f} MiB, Pss "
                  f"{max(f['index_pss'] for f in found):.1f} MiB; index Pss of all workers "
                  f"{sum(f['index_pss'] for f in found):.1f} MiB")

        cert = x509.load_der_x509_certificate(card.auth.certificate)
        signature = parse_token(token).signature
        data = signed_data(ORIGIN, NONCE)
        key = cert.public_key()
        raw, full = paired_rates(
            lambda: key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256()),
            lambda: validator.validate(parse_token(token), ORIGIN, NONCE), 2 * args.seconds)

    print(f"raw RSA-2048 PKCS#1 v1.5 verifications: {raw:,.0f} /s")
    print(f"full token validations (shape, chain, validity, CRL, signature): {full:,.0f} /s")
    print(f"ratio refresh/bare parse: {refresh / bare:.2f}")
    print(f"ratio full/raw: {full / raw:.3f}  (one validation costs {raw / full:.2f} raw verifications)")


if __name__ == "__main__":
    main()
