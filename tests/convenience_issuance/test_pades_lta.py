"""Certificates that still verify in ten years (PAdES B-LTA): issued through the terminal
API with the project's test TSA running over HTTP, then checked as an outside verifier
would — pyHanko's AdES validation with only the root as trust and no network (everything
needed must be in the file), again with the clock moved past the signing certificate's
expiry, and poppler's pdfsig. A TSA that is down: a clear error, the fee handed back,
the certificate void, nothing left half-issued."""
from __future__ import annotations

import asyncio
import io
import subprocess
from datetime import date, datetime, timedelta, timezone

import pytest
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import ades
from pyhanko.sign.validation.policy_decl import (PdfSignatureValidationSpec,
                                                 RevinfoOnlineFetchingRule,
                                                 RevocationInfoGatheringSpec,
                                                 SignatureValidationSpec)
from pyhanko.sign.ades.report import AdESPassed
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (CertRevTrustPolicy, RevocationCheckingPolicy,
                                               RevocationCheckingRule)
from pyhanko_certvalidator.registry import SimpleTrustManager
from sqlalchemy import select

from services.convenience_issuance.issuance import reconcile
from services.convenience_issuance.models import IssuanceLogEntry, IssuanceRequest, IssuedCertificate
from services.convenience_issuance.signing import KeyRing, MunicipalKey, TrustServices as Trust
from services.convenience_issuance.testtsa import TrustServiceApp, TrustServices, serve_in_thread
from tests.convenience_issuance.test_pdf import issue

SIGNING_DAYS = 400


@pytest.fixture(scope="module")
def trust_service(tmp_path_factory):
    """The test TSA and CRL over HTTP on a free port, its PKI in a temporary directory."""
    service = TrustServiceApp()
    server, url = serve_in_thread(service)
    service.services = TrustServices.create(tmp_path_factory.mktemp("tsa"), url)
    yield service
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def city_key(trust_service) -> MunicipalKey:
    key, certificate, root = trust_service.services.signing_key("南国市", "392049", SIGNING_DAYS)
    return MunicipalKey(key, certificate, (root,))


@pytest.fixture
def lta(app, terminal, city_key, trust_service):
    """The terminal's city signs with a key under the test root and asks the test TSA."""
    ring = KeyRing({}, allow_development=False)
    ring.add("392049", city_key)
    app.extensions["convenience_issuance.keys"] = ring
    root_pem = city_key.chain_pem[0]
    app.extensions["convenience_issuance.trust"] = Trust(trust_service.services.tsa_url, (root_pem,))
    trust_service.down = False
    yield trust_service
    trust_service.down = False


def verifier_spec(root_pem: bytes) -> PdfSignatureValidationSpec:
    """An outside verifier: trusts the root only, requires revocation data, fetches nothing."""
    required = RevocationCheckingPolicy(RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
                                        RevocationCheckingRule.CRL_OR_OCSP_REQUIRED)
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=list(load_certs_from_pemder_data(root_pem))),
        revinfo_policy=CertRevTrustPolicy(required))
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=policy,
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY)))


def test_issued_certificate_is_pades_b_lta(lta, terminal, hanako, bind_card, city_key):
    pdf = issue(terminal, bind_card(hanako), "juminhyo")
    reader = PdfFileReader(io.BytesIO(pdf))
    (signature,) = reader.embedded_regular_signatures
    assert signature.field_name == "MunicipalSeal"
    # B-T: a signature time-stamp; B-LT: the DSS with the chains' revocation data;
    # B-LTA: a document time-stamp over all of it, last in the file
    unsigned = [a["type"].native for a in signature.signer_info["unsigned_attrs"]]
    assert "signature_time_stamp_token" in unsigned
    dss = reader.root["/DSS"]
    assert len(dss["/CRLs"]) >= 1 and len(dss["/Certs"]) >= 2
    assert len(reader.embedded_timestamp_signatures) == 1
    assert reader.embedded_signatures[-1].sig_object["/Type"] == "/DocTimeStamp"
    result = asyncio.run(ades.ades_lta_validation(signature, verifier_spec(city_key.chain_pem[0])))
    assert isinstance(result, ades.AdESLTAValidationResult)
    assert result.ades_subindic == AdESPassed.OK, result.ades_subindic
    assert result.api_status.bottom_line and result.api_status.intact


def test_still_valid_after_the_signing_certificate_expired(lta, terminal, hanako, bind_card, city_key):
    pdf = issue(terminal, bind_card(hanako), "juminhyo")
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures
    expired = signature.signer_cert.not_valid_after + timedelta(days=30)
    assert expired < datetime.now(timezone.utc) + timedelta(days=SIGNING_DAYS + 31)
    spec = verifier_spec(city_key.chain_pem[0])
    # plain validation at that moment fails: the certificate has expired…
    plain = asyncio.run(ades.ades_basic_validation(
        signature.signed_data, spec.signature_validation_spec, raw_digest=signature.compute_digest(),
        timing_info=ValidationTimingInfo(expired, expired, True)))
    assert plain.ades_subindic != AdESPassed.OK
    # …the time-stamps and the revocation data in the file prove it was valid when signed
    future = asyncio.run(ades.simulate_future_ades_lta_validation(
        signature, spec, future_validation_time=expired))
    assert future.ades_subindic == AdESPassed.OK, future.ades_subindic


def test_pdfsig_says_the_signature_is_valid(lta, terminal, hanako, bind_card, tmp_path):
    path = tmp_path / "lta.pdf"
    path.write_bytes(issue(terminal, bind_card(hanako), "juminhyo"))
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    seal = out.split("Signature #2")[0]
    assert "MunicipalSeal" in seal and "Signature is Valid." in seal, out


def test_a_tsa_that_is_down_issues_nothing_and_refunds(lta, terminal, hanako, bind_card, db, city):
    assert terminal.start(bind_card(hanako)).status_code == 201
    terminal.quote("juminhyo")
    paid = terminal.pay("tsa-down-0001", 200)
    assert paid.status_code == 201
    code = paid.get_json()["certificate"]["verification_code"]
    lta.down = True
    response = terminal.pdf()
    assert response.status_code == 503
    answer = response.get_json()
    assert answer["error"] == "timestamp_unavailable" and answer["amount_refunded"] == 200
    assert "時刻認証" in answer["message"] and "お返しします" in answer["message"]
    lta.down = False
    assert terminal.pdf().status_code == 401   # released: no second try with this request
    with db.transaction(city.id) as s:
        request = s.scalar(select(IssuanceRequest))
        certificate = s.scalar(select(IssuedCertificate))
        events = s.scalars(select(IssuanceLogEntry.event).order_by(IssuanceLogEntry.id)).all()
        report = reconcile(s, date(2026, 7, 1))
    assert request.pdf is None and request.released_at is not None
    assert certificate.revoked_at is not None and certificate.verification_code == code
    assert events[-3:] == ["voided", "refunded", "failed"]
    assert report.rows == () and report.balanced and report.refunds == (1, 200)
