"""Laying out certificates as PDF (reportlab): 住民票の写し, 住民票記載事項証明書,
印鑑登録証明書, 所得・課税証明書.

Input is a plain snapshot (`CertificateContent`), so layout needs neither Flask nor the
database. What is never printed: the My Number (個人番号) and the 住民票コード — the
snapshot has no field for either, so no option can bring them onto paper.
"""
from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import segno
from reportlab.lib.colors import Color, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (BaseDocTemplate, Flowable, Frame, KeepTogether, PageTemplate,
                                Spacer, Table, TableStyle)

from portal.api import GOTHIC, MINCHO, Box, WrappedText, draw_in_box, font_file, japanese_font
from services.convenience_issuance.services import CERTIFICATE_LABELS, CertificateType

SEAL_RED = Color(0.80, 0.10, 0.10)
COPY_WARNING = Color(0.80, 0.80, 0.86)  # light enough to read through, visible on paper
SEX_LABELS = {"1": "男", "2": "女", "9": "－"}


def register_fonts() -> None:
    """IPAex Mincho for the certificate's text, Gothic for headings and the copy warning."""
    japanese_font("Mincho", MINCHO)
    japanese_font("Gothic", GOTHIC)


@dataclass(frozen=True)
class Member:
    """One person as printed (世帯員)."""
    name: str
    name_kana: str
    birth_date: date
    sex: str
    relationship: str = ""
    honseki: str | None = None
    hittosha: str | None = None


@dataclass(frozen=True)
class CertificateContent:
    """Everything one certificate shows; built by the issuance step from the registry."""
    certificate_type: CertificateType
    city_name: str
    address: str
    holder: Member
    issued_at: datetime                   # Japan time
    issuance_number: str
    verification_code: str
    verify_url: str
    head_name: str = ""
    members: tuple[Member, ...] = ()      # 住民票: the members printed, holder first
    options: dict = field(default_factory=dict)
    seal_registration_number: str = ""
    seal_image: bytes | None = None       # 印影 (印鑑登録)
    municipal_seal_image: str | None = None  # 公印 image file from configuration
    fiscal_year: int | None = None
    tax: dict = field(default_factory=dict)


def wareki(day: date) -> str:
    """令和 date for the certification line (令和元年 = 2019)."""
    year = day.year - 2018
    return f"令和{'元' if year == 1 else year}年{day.month}月{day.day}日"


def western(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# -- the page: every element has its box -------------------------------------------------
# A4 in points, origin bottom left. The body flows (a large household continues on a
# second page); everything else is fixed, and text in a fixed box is wrapped, then shrunk.
MARGIN = 22 * mm
QR_SIZE = 34 * mm          # the code and its quiet zone (4 modules, white) together
TITLE_BOX = Box("title", MARGIN, A4[1] - 40 * mm, A4[0] - 2 * MARGIN, 20 * mm)
BODY_BOX = Box("body", MARGIN, 54 * mm, A4[0] - 2 * MARGIN, A4[1] - 45 * mm - 54 * mm)
QR_BOX = Box("qr", A4[0] - MARGIN - QR_SIZE, 14 * mm, QR_SIZE, QR_SIZE)
FOOTER_BOX = Box("footer", MARGIN, 14 * mm, QR_BOX.x - 4 * mm - MARGIN, QR_SIZE)
PAGE_NUMBER_BOX = Box("page_number", MARGIN, 6 * mm, A4[0] - 2 * MARGIN, 6 * mm)
PAGE_BOXES = (TITLE_BOX, BODY_BOX, FOOTER_BOX, QR_BOX, PAGE_NUMBER_BOX)
LABEL_WIDTH = 35 * mm


def render(content: CertificateContent) -> bytes:
    """The certificate as PDF, unsigned (signing.sign_pdf signs it): one A4 page, more
    only when the printed household does not fit (each page then says 「1／2」)."""
    register_fonts()
    pdf, pages = _build(content, total_pages=None)
    if pages > 1:  # the page count is known only once laid out: lay out again with it
        pdf, _pages = _build(content, total_pages=pages)
    return pdf


def _build(content: CertificateContent, total_pages: int | None) -> tuple[bytes, int]:
    buffer = io.BytesIO()
    title = CERTIFICATE_LABELS[content.certificate_type]
    doc = BaseDocTemplate(buffer, pagesize=A4, title=f"{title} {content.issuance_number}",
                          author=content.city_name, pageCompression=1,
                          initialFontName="Mincho")  # not Helvetica (never embedded)
    frame = Frame(BODY_BOX.x, BODY_BOX.y, BODY_BOX.width, BODY_BOX.height, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    decorate = functools.partial(draw_page, content=content, total_pages=total_pages)
    doc.addPageTemplates([PageTemplate("certificate", [frame], onPage=decorate)])
    story = BODIES[content.certificate_type](content) + certification(content)
    doc.build(story)
    return buffer.getvalue(), doc.page


def draw_page(canvas: Canvas, doc, content: CertificateContent, total_pages: int | None) -> None:
    """What every page carries: the copy warning, the title, the footer and the QR code."""
    canvas.saveState()
    draw_copy_warning(canvas)
    canvas.setFillColor(black)
    draw_in_box(canvas, TITLE_BOX, CERTIFICATE_LABELS[content.certificate_type], "Gothic",
                20, 12, align="center")
    draw_footer(canvas, content)
    if total_pages:
        draw_in_box(canvas, PAGE_NUMBER_BOX, f"{doc.page}／{total_pages}", "Gothic", 9, 6,
                    align="center")
    canvas.restoreState()


def draw_copy_warning(canvas: Canvas) -> None:
    """けん制文字: 「複写」 repeated diagonally over the page in a light tint.

    Drawn as one background image rather than as text, so the pattern is visible on paper
    and on screen but does not interleave with the certificate's text for readers and
    screen readers (pdftotext shows the certificate, not hundreds of 複写)."""
    canvas.drawImage(copy_warning_file(), 0, 0, A4[0], A4[1])


@functools.lru_cache(maxsize=1)
def copy_warning_file() -> str:
    """The pattern as a grayscale JPEG file, made once per process: reportlab embeds a
    JPEG as it is (DCTDecode), where a PNG would be re-compressed for every certificate."""
    import tempfile
    from PIL import Image
    handle = tempfile.NamedTemporaryFile(prefix="madoguchi-copy-warning-", suffix=".jpg", delete=False)
    Image.open(io.BytesIO(copy_warning_png())).save(handle, format="JPEG", quality=75)
    handle.close()
    return handle.name


def copy_warning_png() -> bytes:
    from PIL import Image, ImageDraw, ImageFont
    scale = 2  # pixels per point: smooth enough on paper, small once compressed
    width, height = int(A4[0] * scale), int(A4[1] * scale)
    tile = Image.new("L", (width * 2, height * 2), 255)
    draw = ImageDraw.Draw(tile)
    font = ImageFont.truetype(str(font_file(GOTHIC)), 28 * scale)
    tint = int(255 * COPY_WARNING.red)
    step_x, step_y = int(45 * mm * scale), int(22 * mm * scale)
    for row, y in enumerate(range(0, height * 2, step_y)):
        for x in range(-step_x, width * 2, step_x):
            draw.text((x + (row % 2) * step_x // 2, y), "複写", fill=tint, font=font)
    rotated = tile.rotate(30, fillcolor=255)
    page = rotated.crop((width // 2, height // 2, width // 2 + width, height // 2 + height))
    out = io.BytesIO()
    page.save(out, format="PNG", optimize=True)
    return out.getvalue()


def rows(*pairs: tuple[str, str]) -> Table:
    """Label and value rows under a thin rule; the value wraps inside its column."""
    cells = [[WrappedText(label, "Gothic", 10), WrappedText(value, "Mincho", 11)]
             for label, value in pairs]
    table = Table(cells, colWidths=(LABEL_WIDTH, BODY_BOX.width - LABEL_WIDTH), hAlign="LEFT")
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "Mincho"),  # not Helvetica
                               ("LINEBELOW", (0, 0), (-1, -1), 0.3, black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm),
                               ("TOPPADDING", (0, 0), (-1, -1), 1.5 * mm),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1 * mm)]))
    return table


def member_rows(member: Member, options: dict) -> list[tuple[str, str]]:
    pairs = [("氏名", f"{member.name}（{member.name_kana}）"),
             ("生年月日・性別", f"{western(member.birth_date)}生　{SEX_LABELS.get(member.sex, '－')}")]
    if options.get("relationship"):
        pairs.append(("続柄", member.relationship))
    if options.get("honseki"):
        pairs += [("本籍", member.honseki or "－"), ("筆頭者", member.hittosha or "－")]
    return pairs


def juminhyo_body(content: CertificateContent) -> list:
    head = [("住所", content.address)]
    if content.options.get("relationship"):
        head.append(("世帯主", content.head_name))
    story = [rows(*head)]
    for member in content.members:
        # one person's rows stay on one page
        story += [Spacer(1, 2 * mm), KeepTogether(rows(*member_rows(member, content.options)))]
    return story


def kisai_body(content: CertificateContent) -> list:
    return [rows(("住所", content.address), *member_rows(content.holder, content.options))]


def inkan_body(content: CertificateContent) -> list:
    holder = content.holder
    return [WrappedText("印影", "Gothic", 10, leading=8 * mm / 10),
            SealImpression(content.seal_image, holder.name.split("\u3000")[0]),
            Spacer(1, 6 * mm),
            rows(("登録番号", content.seal_registration_number),
                 ("氏名", f"{holder.name}（{holder.name_kana}）"),
                 ("生年月日", western(holder.birth_date) + "生"), ("住所", content.address))]


class SealImpression(Flowable):
    """The registered 印影 in its 40 mm frame (the image, else a placeholder drawn)."""

    def __init__(self, image: bytes | None, family: str) -> None:
        super().__init__()
        self.image, self.family = image, family
        self.width = self.height = 40 * mm

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.setLineWidth(1)
        canvas.rect(0, 0, self.width, self.height)
        box = (2 * mm, 2 * mm, 36 * mm)
        if self.image:
            from reportlab.lib.utils import ImageReader
            canvas.drawImage(ImageReader(io.BytesIO(self.image)), box[0], box[1], box[2], box[2],
                             mask="auto", preserveAspectRatio=True)
        else:
            draw_name_seal(canvas, self.family, box)


def draw_name_seal(canvas: Canvas, family: str, box: tuple[float, float, float]) -> None:
    """Placeholder 印影 when the registry holds no image: a red circle with the family name."""
    x, y, size = box
    canvas.saveState()
    canvas.setStrokeColor(SEAL_RED)
    canvas.setFillColor(SEAL_RED)
    canvas.setLineWidth(2)
    canvas.circle(x + size / 2, y + size / 2, size / 2 - 2)
    chars = list(family[:3]) or ["印"]
    step = (size - 12) / len(chars)
    canvas.setFont("Mincho", min(step * 0.9, 22))
    for i, char in enumerate(chars):
        canvas.drawCentredString(x + size / 2, y + size - 10 - step * (i + 0.75), char)
    canvas.restoreState()


def tax_body(content: CertificateContent) -> list:
    amounts = [(label, f"{content.tax.get(key, 0):,}円") for label, key in (
        ("総所得金額", "total_income"), ("課税所得金額", "taxable_income"),
        ("市町村民税", "municipal_tax"), ("道府県民税", "prefectural_tax"))]
    return [rows(("年度", f"{content.fiscal_year}年度（{content.fiscal_year - 1}年中の所得）"),
                 ("氏名", f"{content.holder.name}（{content.holder.name_kana}）"),
                 ("住所", content.address), *amounts)]


BODIES = {
    CertificateType.JUMINHYO: juminhyo_body,
    CertificateType.JUMINHYO_KISAI: kisai_body,
    CertificateType.INKAN: inkan_body,
    CertificateType.SHOTOKU_KAZEI: tax_body,
}

STATEMENTS = {
    CertificateType.JUMINHYO: "この写しは、住民票の原本と相違ないことを証明する。",
    CertificateType.JUMINHYO_KISAI: "上記の事項は、住民票に記載されていることを証明する。",
    CertificateType.INKAN: "この写しは、登録されている印影と相違ないことを証明する。",
    CertificateType.SHOTOKU_KAZEI: "上記のとおり相違ないことを証明する。",
}
SEAL_SIZE = 26 * mm


def certification(content: CertificateContent) -> list:
    """The statement, the date and the mayor's title beside the 公印, kept together at
    the end of the body (after the last person on the last page)."""
    mayor = Table([[WrappedText(f"{content.city_name}長", "Mincho", 14, align="right"),
                    MunicipalSeal(content)]],
                  colWidths=(BODY_BOX.width - SEAL_SIZE - 8 * mm, SEAL_SIZE + 8 * mm))
    mayor.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "Mincho"),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (0, 0), 4 * mm)]))
    return [Spacer(1, 8 * mm), KeepTogether([
        WrappedText(STATEMENTS[content.certificate_type], "Mincho", 11, leading=2),
        WrappedText(wareki(content.issued_at.date()), "Mincho", 11, leading=2), mayor])]


class MunicipalSeal(Flowable):
    """The 公印 box (the configured image, or a generated seal)."""

    def __init__(self, content: CertificateContent) -> None:
        super().__init__()
        self.content = content
        self.width = self.height = SEAL_SIZE

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        draw_municipal_seal(self.canv, self.content, (0, 0, SEAL_SIZE))


def draw_municipal_seal(canvas: Canvas, content: CertificateContent,
                        box: tuple[float, float, float]) -> None:
    """The 公印: the configured image, else a generated square red seal with the title."""
    x, y, size = box
    if content.municipal_seal_image and Path(content.municipal_seal_image).is_file():
        canvas.drawImage(content.municipal_seal_image, x, y, size, size, mask="auto",
                         preserveAspectRatio=True)
        return
    canvas.saveState()
    canvas.setStrokeColor(SEAL_RED)
    canvas.setFillColor(SEAL_RED)
    canvas.setLineWidth(2)
    canvas.rect(x, y, size, size)
    text = (content.city_name + "長之印")[:6].ljust(6, "印")
    canvas.setFont("Mincho", size / 3.4)
    # traditional order: right column first, top to bottom
    for index, char in enumerate(text):
        column, row = divmod(index, 3)
        cx = x + size * (0.72 - 0.44 * column)
        cy = y + size * (0.74 - 0.29 * row)
        canvas.drawCentredString(cx, cy, char)
    canvas.restoreState()


def draw_footer(canvas: Canvas, content: CertificateContent) -> None:
    """Issuance number, code and URL in their box, left of the QR code's box: however
    long the origin, the URL wraps (or shrinks) and never reaches the code."""
    canvas.setFillColor(black)
    lines = [f"交付番号　{content.issuance_number}",
             f"確認コード　{content.verification_code}",
             "この証明書はコンビニ交付により発行され、市の電子署名が付いています。",
             "確認コードまたは右のQRコードで、交付の事実を確認できます。",
             content.verify_url]
    draw_in_box(canvas, FOOTER_BOX, "\n".join(lines), "Gothic", 9, 5)
    draw_qr(canvas, content.verify_url, QR_BOX)


def draw_qr(canvas: Canvas, data: str, box: Box) -> None:
    """Vector QR code (segno's module matrix drawn as rectangles) on white, with the
    4-module quiet zone inside `box`, so the copy-warning pattern stays off it."""
    matrix = qr_matrix(data)
    quiet = 4
    module = box.width / (len(matrix) + 2 * quiet)
    canvas.saveState()
    canvas.setFillColor(white)
    canvas.rect(box.x, box.y, box.width, box.height, stroke=0, fill=1)
    canvas.setFillColor(black)
    top = box.top - quiet * module
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(box.x + (quiet + c) * module, top - (r + 1) * module, module, module,
                            stroke=0, fill=1)
    canvas.restoreState()


@functools.lru_cache(maxsize=8)
def qr_matrix(data: str) -> tuple:
    """Encoding (choosing the mask) costs more than drawing: once per URL, not per page."""
    return tuple(tuple(row) for row in segno.make(data, error="m").matrix)
