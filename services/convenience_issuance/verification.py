"""Checking an uploaded certificate PDF as a verifier would (pyHanko), for the public
verification page: is the municipality's signature intact, which city made it, when was
it time-stamped. The PDF is read in memory and never stored. No Flask, no database.

Which city: the issuance number in the signed document's title (「住民票の写し
392049-2026-00000001」) names the city; its configured signing certificate (and that
certificate's chain) is the only trust anchor the signature is checked against, so a
PDF signed by anyone else — however its certificate is named — is not "made by" the city."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime

from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from services.convenience_issuance.signing import SIGNATURE_FIELD, MunicipalKey

MAX_UPLOAD_BYTES = 4 * 1024 * 1024
NUMBER = re.compile(r"(\d{6})-(\d{4}-\d{8})\s*$")


class NotACertificate(ValueError):
    """Not a PDF, or a PDF without the municipal signature or issuance number."""


@dataclass(frozen=True)
class UploadCheck:
    """What the page says about an uploaded PDF."""
    city_code: str
    issuance_number: str           # as stored, without the city code
    intact: bool                   # the signed bytes are unchanged
    trusted: bool                  # signed with this city's configured key
    signer: str                    # the signing certificate's subject, for the reader
    timestamp: datetime | None     # from the signature time-stamp (RFC 3161), UTC
    document_timestamp: bool       # a document time-stamp follows (PAdES B-LTA)


def signed_number(pdf: bytes) -> tuple[str, str, object]:
    """(city code, issuance number, the embedded signature) of an issued certificate."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = [s for s in reader.embedded_regular_signatures if s.field_name == SIGNATURE_FIELD]
    except (PdfError, ValueError, KeyError, TypeError, IndexError):
        raise NotACertificate("not a PDF") from None
    if not signatures:
        raise NotACertificate("no municipal signature")
    signature = signatures[0]
    # the title as it was signed: read from the signed revision, not from a later update
    info = signature.reader.get_historical_resolver(signature.signed_revision).trailer_view.get("/Info")
    title = str(info.get_object().get("/Title", "")) if info is not None else ""
    match = NUMBER.search(title)
    if not match:
        raise NotACertificate("no issuance number")
    return match.group(1), match.group(2), signature


def check(pdf: bytes, city_code: str, issuance_number: str, signature, key: MunicipalKey) -> UploadCheck:
    """Validate `signature` against the city's key `key` only."""
    roots = [c for pem in (key.certificate_pem, *key.chain_pem) for c in load_certs_from_pemder_data(pem)]
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=roots))
    stamp = status.timestamp_validity
    return UploadCheck(city_code, issuance_number, bool(status.intact and status.valid),
                       bool(status.intact and status.valid and status.trusted),
                       status.signing_cert.subject.human_friendly,
                       stamp.timestamp if stamp is not None and stamp.intact else None,
                       bool(signature.reader.embedded_timestamp_signatures))
