"""Certificate PDFs as a reader gets them: Japanese text (pdftotext), embedded fonts
(pdffonts), the municipality's PAdES signature validated by pyHanko against the test
municipal certificate, and what must never be printed."""
from __future__ import annotations

import io
import subprocess
from datetime import date

import pytest
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from portal.registry.models import SealRegistration, TaxRecord


def issue(terminal, card, kind, **options) -> bytes:
    assert terminal.start(card).status_code == 201
    quoted = terminal.quote(kind, **options)
    assert quoted.status_code == 200, quoted.get_json()
    paid = terminal.pay(f"pdf-{kind}-key", quoted.get_json()["fee"])
    assert paid.status_code == 201, paid.get_json()
    response = terminal.pdf()
    assert response.status_code == 200, response.get_data(as_text=True)[:200]
    return response.data


def text_of(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                         text=True, check=True).stdout
    return Text(out)


class Text(str):
    """pdftotext output; `in` ignores layout spaces (the 全角 space between names too)."""

    def __contains__(self, expected: str) -> bool:
        return "".join(expected.split()) in "".join(self.split())


def fonts_of(pdf: bytes, tmp_path) -> list[list[str]]:
    path = tmp_path / "f.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


@pytest.fixture
def household(hanako, make_resident, city):
    return make_resident(city, family="高知", given="一郎", birth=date(2012, 3, 3), household=hanako.household_id,
                         relationship="子", address=hanako.address)


def test_juminhyo_household_with_relationship_and_honseki(terminal, hanako, household, bind_card, tmp_path):
    pdf = issue(terminal, bind_card(hanako), "juminhyo", household=True, relationship=True, honseki=True)
    text = text_of(pdf, tmp_path)
    for expected in ("住民票の写し", "高知県南国市大そね1番地", "高知　花子", "高知　一郎", "続柄", "子",
                     "本籍", "高知県南国市本籍1番地", "筆頭者", "南国市長", "交付番号", "確認コード",
                     "この写しは、住民票の原本と相違ないことを証明する。", "令和8年7月1日"):
        assert expected in text, expected
    for never in ("個人番号", "住民票コード", "マイナンバー", hanako.number):
        assert never not in text


def test_juminhyo_holder_only_omits_household_and_honseki(terminal, hanako, household, bind_card, tmp_path):
    text = text_of(issue(terminal, bind_card(hanako), "juminhyo"), tmp_path)
    assert "高知　花子" in text
    assert "高知　一郎" not in text and "本籍" not in text and "続柄" not in text


def test_fonts_are_embedded(terminal, hanako, bind_card, tmp_path):
    rows = fonts_of(issue(terminal, bind_card(hanako), "juminhyo_kisai"), tmp_path)
    assert rows, "no fonts listed"
    names = [row[0] for row in rows]
    assert any("IPAexMincho" in n for n in names) and any("IPAexGothic" in n for n in names)
    assert all(row[-5] == "yes" for row in rows), rows  # the "emb" column


def test_signature_validates_with_the_municipal_certificate(terminal, hanako, bind_card, municipal_keys):
    pdf = issue(terminal, bind_card(hanako), "juminhyo")
    reader = PdfFileReader(io.BytesIO(pdf))
    (signature,) = reader.embedded_signatures
    trusted = ValidationContext(trust_roots=list(load_certs_from_pemder_data(
        municipal_keys["392049"].certificate_pem)))
    status = validate_pdf_signature(signature, trusted)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert signature.field_name == "MunicipalSeal"
    assert "南国市" in status.signing_cert.subject.human_friendly
    assert "PAdES" in signature.sig_object["/SubFilter"] or signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"


def test_signature_of_another_city_is_not_trusted(terminal, hanako, bind_card, municipal_keys):
    pdf = issue(terminal, bind_card(hanako), "juminhyo")
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    konan_only = ValidationContext(trust_roots=list(load_certs_from_pemder_data(
        municipal_keys["392111"].certificate_pem)))
    status = validate_pdf_signature(signature, konan_only)
    assert status.intact and not status.trusted


def test_tampered_pdf_fails_validation(terminal, hanako, bind_card, municipal_keys):
    pdf = bytearray(issue(terminal, bind_card(hanako), "juminhyo"))
    index = pdf.index(b"/Title")
    pdf[index + 8] ^= 0x01  # a byte inside the signed range
    (signature,) = PdfFileReader(io.BytesIO(bytes(pdf)), strict=False).embedded_signatures
    trusted = ValidationContext(trust_roots=list(load_certs_from_pemder_data(
        municipal_keys["392049"].certificate_pem)))
    assert not validate_pdf_signature(signature, trusted).intact


def test_seal_certificate_draws_a_placeholder_seal(terminal, hanako, bind_card, db, city, tmp_path):
    with db.transaction(city.id) as s:
        s.add(SealRegistration(resident_id=hanako.id, registration_number="S-0042",
                               registered_on=date(2010, 1, 1), seal_image=None))
    text = text_of(issue(terminal, bind_card(hanako), "inkan"), tmp_path)
    for expected in ("印鑑登録証明書", "印影", "S-0042", "高知　花子",
                     "この写しは、登録されている印影と相違ないことを証明する。"):
        assert expected in text, expected


def test_tax_certificate_by_year(terminal, hanako, bind_card, db, city, tmp_path):
    with db.transaction(city.id) as s:
        s.add(TaxRecord(resident_id=hanako.id, fiscal_year=2025, total_income=3_200_000,
                        taxable_income=2_100_000, municipal_tax=126_000, prefectural_tax=84_000))
    text = text_of(issue(terminal, bind_card(hanako), "shotoku_kazei", fiscal_year=2025), tmp_path)
    for expected in ("所得・課税証明書", "2025年度", "3,200,000円", "126,000円", "84,000円"):
        assert expected in text, expected


def test_issuing_logs_access_of_everyone_printed(terminal, hanako, household, bind_card, db, city):
    from sqlalchemy import select
    from portal.audit.models import AccessLogEntry
    issue(terminal, bind_card(hanako), "juminhyo", household=True)
    with db.transaction(city.id) as s:
        subjects = set(s.scalars(select(AccessLogEntry.subject_resident_id)
                                 .where(AccessLogEntry.action == "issue")).all())
    assert subjects == {hanako.id, household.id}


def test_copy_warning_pattern_is_on_the_page(terminal, hanako, bind_card, tmp_path):
    """The background 「複写」 pattern is an image under the text; rasterised, the page has
    light-tinted pixels outside the text area."""
    from PIL import Image
    path = tmp_path / "p.pdf"
    path.write_bytes(issue(terminal, bind_card(hanako), "juminhyo"))
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True)
    image = Image.open(tmp_path / "page.png").convert("L")
    middle = image.crop((0, image.height // 3, image.width, image.height // 2))  # no text there
    tinted = sum(middle.histogram()[151:250])
    assert tinted > 0.02 * middle.width * middle.height


def seal_png() -> tuple[bytes, "Image.Image"]:
    """A small registered 印影: a vermilion ring with a bar and a dot (not square, so its
    size tells it apart from any other image on the page), on a transparent ground."""
    from PIL import Image, ImageDraw
    image = Image.new("RGBA", (60, 48), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((2, 2, 57, 45), outline=(200, 30, 30, 255), width=4)
    draw.rectangle((27, 10, 32, 38), fill=(200, 30, 30, 255))
    draw.ellipse((10, 20, 16, 26), fill=(120, 10, 10, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue(), image


def test_seal_certificate_embeds_the_registered_seal_image(terminal, hanako, bind_card, db, city,
                                                          tmp_path):
    from PIL import Image, ImageChops
    png, original = seal_png()
    with db.transaction(city.id) as s:
        s.add(SealRegistration(resident_id=hanako.id, registration_number="S-0077",
                               registered_on=date(2010, 1, 1), seal_image=png))
    pdf = issue(terminal, bind_card(hanako), "inkan")
    text = text_of(pdf, tmp_path)
    assert "印影" in text and "S-0077" in text
    path = tmp_path / "seal.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    # columns: page num type width height color comp bpc enc ...
    seals = [row.split() for row in listing if row.split()[3:5] == ["60", "48"]]
    assert [row[2] for row in seals] == ["image", "smask"], listing   # the ring keeps its transparency
    subprocess.run(["pdfimages", "-png", str(path), str(tmp_path / "img")], check=True)
    extracted = [Image.open(p) for p in sorted(tmp_path.glob("img-*.png"))]
    colour = next(i for i in extracted if i.size == (60, 48) and i.mode == "RGB")
    alpha = next(i for i in extracted if i.size == (60, 48) and i.mode in ("L", "1"))
    assert ImageChops.difference(alpha.convert("L"), original.getchannel("A")).getbbox() is None
    opaque = original.getchannel("A").point(lambda a: 255 if a else 0)
    difference = ImageChops.difference(colour, original.convert("RGB"))
    assert ImageChops.multiply(difference.convert("L"), opaque).getbbox() is None  # the seal as registered
    # and it is drawn inside the 印影 box (25–65 mm from the left, 53–93 mm from the top)
    subprocess.run(["pdftoppm", "-r", "72", "-png", "-singlefile", str(path), str(tmp_path / "page")],
                   check=True)
    px = 72 / 25.4
    box = Image.open(tmp_path / "page.png").convert("RGB").crop(
        (int(25 * px), int(53 * px), int(65 * px), int(93 * px)))
    red, green, blue = box.split()
    vermilion = ImageChops.multiply(ImageChops.multiply(
        red.point(lambda v: 255 if v > 150 else 0), green.point(lambda v: 255 if v < 90 else 0)),
        blue.point(lambda v: 255 if v < 90 else 0)).histogram()[255]
    assert vermilion > 100, vermilion


def test_seal_certificate_without_an_image_embeds_none(terminal, hanako, bind_card, db, city, tmp_path):
    """The placeholder is drawn, not an image: the page's only image is the copy-warning
    background."""
    with db.transaction(city.id) as s:
        s.add(SealRegistration(resident_id=hanako.id, registration_number="S-0078",
                               registered_on=date(2010, 1, 1), seal_image=None))
    path = tmp_path / "placeholder.pdf"
    path.write_bytes(issue(terminal, bind_card(hanako), "inkan"))
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    assert len(listing) == 1 and listing[0].split()[8] == "jpeg", listing


def test_qr_code_holds_the_verification_url_that_confirms_the_certificate(
        terminal, client, hanako, bind_card, tmp_path):
    """Rasterise the printed page (pdftoppm) and read the QR code as a phone would
    (zxing-cpp): it holds the verification page's URL with this certificate's code, and
    that page confirms the certificate."""
    import zxingcpp
    from PIL import Image
    from urllib.parse import parse_qs, urlsplit
    assert terminal.start(bind_card(hanako)).status_code == 201
    terminal.quote("juminhyo")
    code = terminal.pay("qr-key-0001", 200).get_json()["certificate"]["verification_code"]
    path = tmp_path / "qr.pdf"
    path.write_bytes(terminal.pdf().data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "page")],
                   check=True)
    found = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    qr = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert qr == [f"https://localhost/services/convenience_issuance/verify?code={code}"], qr
    url = urlsplit(qr[0])
    assert parse_qs(url.query) == {"code": [code]}
    assert code in text_of(path.read_bytes(), tmp_path)   # the same code printed for typing
    page = client.get(url.path, query_string=url.query).get_data(as_text=True)
    assert "南国市が交付したもの" in page and "住民票の写し" in page
