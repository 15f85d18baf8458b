"""APDU count and wall time of a card login: this library vs. 256-byte chunked reads.

The login sequence is what the card bridge does: select the JPKI AP, read the
auth certificate, verify the PIN, sign SHA-256(origin) ‖ SHA-256(nonce).
"This library" reads the certificate with a 4-byte header read plus one
extended READ BINARY; "chunked" reads it in 256-byte READ BINARYs as public
tools do.  Both run in one process against the same virtual card with a fixed
per-APDU latency (default 20 ms), through pyscard → pcscd → vpcd (default; run
scripts/pcsc-up.sh first, as root) or in-process (--in-process).

    python bench/card_login_apdus.py [--latency-ms 20] [--rounds 5] [--in-process]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from madoguchi_smartcard.jpki import JPKICard  # noqa: E402
from madoguchi_smartcard.testpki import TestPKI  # noqa: E402
from madoguchi_smartcard.transport import InProcessTransport, RecordingTransport  # noqa: E402
from madoguchi_smartcard.virtual import VirtualMyNumberCard  # noqa: E402

READER = "Virtual PCD 00 00"
PORT = 35963
CHALLENGE = bytes(32) + bytes(range(32))  # stands for SHA-256(origin) ‖ SHA-256(nonce)


def login_once(transport, extended: bool) -> tuple[int, float]:
    recording = RecordingTransport(transport)
    started = time.perf_counter()
    JPKICard(recording, extended_reads=extended).login("1234", CHALLENGE)
    return len(recording.commands), time.perf_counter() - started


def measure(open_transport, extended: bool, rounds: int) -> tuple[int, float]:
    counts, times = [], []
    for _ in range(rounds):
        with open_transport() as transport:
            count, seconds = login_once(transport, extended)
        counts.append(count)
        times.append(seconds)
    return counts[0], statistics.median(times)


def pcsc_opener(profile, latency_s: float):
    from madoguchi_smartcard import readers
    from madoguchi_smartcard.vpcd import VirtualCardServer

    server = VirtualCardServer(profile, port=PORT, latency_s=latency_s).start()
    readers.wait_for_card(READER, timeout_s=10)
    return (lambda: readers.PcscTransport(READER)), server.stop


def in_process_opener(profile, latency_s: float):
    card = VirtualMyNumberCard(profile)
    return (lambda: InProcessTransport(card, latency_s=latency_s)), (lambda: None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--in-process", action="store_true", help="skip pcscd; sleep per APDU in-process")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        profile = TestPKI.create(directory).issue_card(
            name="山田　太郎", birth_date=dt.date(1985, 4, 1), address="東京都千代田区千代田１－１")
        opener = in_process_opener if args.in_process else pcsc_opener
        open_transport, close = opener(profile, args.latency_ms / 1000)
        try:
            ours = measure(open_transport, True, args.rounds)
            chunked = measure(open_transport, False, args.rounds)
        finally:
            close()

    path = "in-process" if args.in_process else "pyscard -> pcscd -> vpcd"
    print(f"card login, {args.latency_ms:g} ms per APDU, {path}, certificate {len(profile.auth.certificate)} bytes,"
          f" median of {args.rounds}")
    print(f"  this library (extended read): {ours[0]:2d} APDUs  {ours[1] * 1000:7.1f} ms")
    print(f"  256-byte chunks             : {chunked[0]:2d} APDUs  {chunked[1] * 1000:7.1f} ms")
    print(f"  ratio chunked / this library: {chunked[0] / ours[0]:.2f}x APDUs, {chunked[1] / ours[1]:.2f}x time")


if __name__ == "__main__":
    main()
