"""Convenience issuance: signed 住民票 PDFs per second and the terminal API flow latency.

- pdf: a one-page unsigned reportlab PDF (one line of Japanese text, the baseline), the
  certificate layout unsigned, and the certificate signed (PAdES, RSA-2048) — same run;
- flow: challenge → card token → quote → payment → PDF → printed, through the Flask test
  client against a temporary SQLite database (or MADOGUCHI_BENCH_DATABASE_URL), with the
  virtual card signing in-process; p50 and p95 over N flows.

    python bench/issuance.py [--pdfs 30] [--flows 30]
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from services.convenience_issuance.certificates import (CertificateContent, Member,  # noqa: E402
                                                        register_fonts, render)
from services.convenience_issuance.services import CertificateType  # noqa: E402
from services.convenience_issuance.signing import generate_municipal_key, sign_pdf  # noqa: E402


def plain_pdf() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, initialFontName="Mincho")
    canvas.setFont("Mincho", 12)
    canvas.drawString(72, 760, "住民票の写し　南国市大そね1番地　高知　花子")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def sample() -> CertificateContent:
    people = tuple(Member(f"高知　{g}", "コウチ", date(1990 + i, 4, 1), "2", "子" if i else "世帯主",
                          "高知県南国市本籍1番地", "高知　太郎") for i, g in enumerate(("花子", "一郎", "二郎")))
    return CertificateContent(CertificateType.JUMINHYO, "南国市", "高知県南国市大そね1番地", people[0],
                              datetime(2026, 7, 1, 10), "392049-2026-00000001", "ABCD-EFGH-JKMN-PQRS",
                              "https://portal.example/services/convenience_issuance/verify?code=ABCD",
                              head_name="高知　花子", members=people,
                              options={"household": True, "relationship": True, "honseki": True})


def rate(label: str, make, n: int) -> float:
    make()  # warm-up (fonts, imports)
    started = time.perf_counter()
    for _ in range(n):
        make()
    per_second = n / (time.perf_counter() - started)
    print(f"  {label:<38} {per_second:8.1f} /s  ({1000 / per_second:7.1f} ms each)")
    return per_second


def bench_pdfs(n: int) -> None:
    register_fonts()
    key = generate_municipal_key("南国市", "392049")
    content = sample()
    print(f"PDFs ({n} each)")
    baseline = rate("unsigned one-page reportlab (baseline)", plain_pdf, n)
    unsigned = rate("住民票 layout, unsigned", lambda: render(content), n)
    signed = rate("住民票 layout, signed (PAdES)", lambda: sign_pdf(render(content), key, "南国市"), n)
    print(f"  ratio to the baseline: layout {baseline / unsigned:.1f}x, signed {baseline / signed:.1f}x"
          " the time per PDF")
    lta = bench_lta(content, max(3, n // 5))
    print("  ratio to the unsigned layout: "
          + ", ".join(f"{label} {unsigned / per_second:.1f}x" for label, per_second
                      in [("B-B", signed)] + lta) + " the time per PDF")


def bench_lta(content: CertificateContent, n: int) -> list[tuple[str, float]]:
    """PAdES B-LTA through the project's test TSA over HTTP on this machine (the key in a
    file; and in SoftHSM2 when the hsm module and SoftHSM2 are there)."""
    from services.convenience_issuance.signing import MunicipalKey, TrustServices as Trust
    from services.convenience_issuance.testtsa import TrustServiceApp, TrustServices, serve_in_thread
    app = TrustServiceApp()
    server, url = serve_in_thread(app)
    try:
        app.services = TrustServices.create(Path(tempfile.mkdtemp(prefix="tsa-bench-")), url)
        key_pem, cert_pem, root_pem = app.services.signing_key("南国市", "392049")
        key, trust = MunicipalKey(key_pem, cert_pem, (root_pem,)), Trust(app.services.tsa_url, (root_pem,))
        results = [("B-LTA (TSA, key file)",
                    rate("signed PAdES B-LTA, test TSA, key file",
                         lambda: sign_pdf(render(content), key, "南国市", trust), n))]
        results += bench_hsm(content, app.services, trust, n)
        return results
    finally:
        server.shutdown()


def bench_hsm(content, services, trust, n: int) -> list[tuple[str, float]]:
    """The same key imported into a SoftHSM2 token of the benchmark's own."""
    import shutil
    import subprocess
    module = "/usr/lib/softhsm/libsofthsm2.so"
    if not (shutil.which("softhsm2-util") and Path(module).is_file()):
        print("  (SoftHSM2 not installed: no HSM figure)")
        return []
    from services.convenience_issuance import hsm
    from services.convenience_issuance.signing import MunicipalKey
    folder = Path(tempfile.mkdtemp(prefix="softhsm-bench-"))
    (folder / "tokens").mkdir()
    (folder / "softhsm2.conf").write_text(f"directories.tokendir = {folder / 'tokens'}\n")
    os.environ["SOFTHSM2_CONF"] = str(folder / "softhsm2.conf")
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin", "1234",
                    "--so-pin", "5678"], check=True, capture_output=True)
    key_pem, cert_pem, root_pem = services.signing_key("南国市", "392049")
    token = hsm.TokenKey(module, "bench", "392049-bench", "1234")
    hsm.import_key(token, key_pem, cert_pem)
    key = MunicipalKey(b"", cert_pem, (root_pem,), token=token)
    return [("B-B (HSM)", rate("signed PAdES B-B, key in SoftHSM2",
                               lambda: sign_pdf(render(content), key, "南国市"), n)),
            ("B-LTA (TSA, HSM)", rate("signed PAdES B-LTA, test TSA, SoftHSM2",
                                      lambda: sign_pdf(render(content), key, "南国市", trust), n))]


def bench_flow(n: int) -> None:
    from portal import create_app
    from portal.cards.models import CardBinding
    from portal.cards.services import validators
    from portal.cards.validation import parse_token
    from portal.migrate import upgrade
    from portal.plugins import load_plugins
    from portal.registry.models import Household, Resident, Sex
    from portal.tenancy.services import add_municipality
    from services.convenience_issuance.signing import KeyRing
    from madoguchi_smartcard.testpki import TestPKI
    from tests.cards.conftest import login_token
    from tests.conftest import card_settings, https_client

    folder = Path(tempfile.mkdtemp(prefix="ci-bench-"))
    url = os.environ.get("MADOGUCHI_BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite'}"
    upgrade(url, load_plugins())
    pki = TestPKI.create(folder / "pki")
    pki.write_crls()
    app = create_app({"ENV": "production", "SECRET_KEY": "bench-" + "x" * 40, "DATABASE_URL": url,
                      "OIDC_ISSUER": "https://portal.test",
                      "TESTING": True, "AUTH_RATE_LIMIT": "100000/minute", **card_settings(pki)})
    app.extensions["convenience_issuance.clock"] = lambda: datetime(2026, 7, 1, 1, 0)
    ring = KeyRing({}, allow_development=False)
    ring.add("392049", generate_municipal_key("南国市", "392049"))
    app.extensions["convenience_issuance.keys"] = ring
    database = app.extensions["madoguchi.db"]
    with database.transaction() as s:
        city = add_municipality(s, "392049", "南国市", settings={"services": ["convenience_issuance"]})
    with database.transaction(city.id) as s:
        home = Household(number="H1", head_name="高知　花子", address="南国市大そね1番地")
        s.add(home)
        s.flush()
        person = Resident(number="R1", household_id=home.id, family_name="高知", given_name="花子",
                          family_name_kana="コウチ", given_name_kana="ハナコ", birth_date=date(1990, 4, 1),
                          sex=Sex.FEMALE, address="南国市大そね1番地", relationship_to_head="世帯主")
        s.add(person)
    card = pki.issue_card(name="高知　花子", birth_date=date(1990, 4, 1), address="南国市大そね1番地", sex="2")
    checked = validators(app).auth.validate_certificate(parse_token(login_token(card, "x")).certificate)
    with database.transaction(city.id) as s:
        s.add(CardBinding(municipality_id=city.id, issuer=checked.issuer_name, serial=checked.serial_hex,
                          fingerprint_sha256=checked.fingerprint, resident_id=person.id))
    client = https_client(app)
    api = "/services/convenience_issuance/api/v1"

    def flow(i: int) -> float:
        started = time.perf_counter()
        challenge = client.post(f"{api}/sessions/challenge", json={"municipality": "392049", "terminal_id": "b1"}).get_json()
        session = client.post(f"{api}/sessions", json={
            "request_id": challenge["request_id"], "nonce": challenge["nonce"], "terminal_id": "b1",
            "token": login_token(card, challenge["nonce"])}).get_json()
        auth = {"Authorization": "Bearer " + session["access_token"]}
        client.post(f"{api}/request/quote", headers=auth, json={"certificate_type": "juminhyo",
                                                                 "options": {"relationship": True}})
        paid = client.post(f"{api}/request/payment", headers=auth, json={"idempotency_key": f"bench-{i:06d}", "amount": 200})
        assert paid.status_code == 201, paid.get_json()
        assert client.get(f"{api}/request/certificate.pdf", headers=auth).status_code == 200
        client.post(f"{api}/request/outcome", headers=auth, json={"result": "printed"})
        return time.perf_counter() - started

    flow(-1)  # warm-up
    times = sorted(flow(i) for i in range(n))
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    print(f"API flow ({n} flows, {url.split(':')[0]}, card signing in-process)")
    print(f"  p50 {statistics.median(times) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pdfs", type=int, default=30)
    parser.add_argument("--flows", type=int, default=30)
    args = parser.parse_args()
    bench_pdfs(args.pdfs)
    bench_flow(args.flows)


if __name__ == "__main__":
    main()
