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
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from portal.api import GOTHIC, MINCHO, font_file, japanese_font
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


def render(content: CertificateContent) -> bytes:
    """One A4 page, unsigned (signing.sign_pdf signs it)."""
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName="Mincho")
    title = CERTIFICATE_LABELS[content.certificate_type]
    canvas.setTitle(f"{title} {content.issuance_number}")
    canvas.setAuthor(content.city_name)
    draw_copy_warning(canvas)
    canvas.setFont("Gothic", 20)
    canvas.drawCentredString(A4[0] / 2, A4[1] - 30 * mm, title)
    BODIES[content.certificate_type](canvas, content)
    draw_certification(canvas, content)
    draw_footer(canvas, content)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


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


def _row(canvas: Canvas, y: float, label: str, value: str, size: int = 11) -> float:
    canvas.setFillColor(black)
    canvas.setFont("Gothic", size - 1)
    canvas.drawString(25 * mm, y, label)
    canvas.setFont("Mincho", size)
    canvas.drawString(60 * mm, y, value)
    canvas.setLineWidth(0.3)
    canvas.line(22 * mm, y - 2.5 * mm, A4[0] - 22 * mm, y - 2.5 * mm)
    return y - 9 * mm


def draw_juminhyo(canvas: Canvas, content: CertificateContent) -> None:
    y = A4[1] - 48 * mm
    y = _row(canvas, y, "住所", content.address)
    if content.options.get("relationship"):
        y = _row(canvas, y, "世帯主", content.head_name)
    for member in content.members:
        y = _member_block(canvas, y - 2 * mm, member, content.options)


def _member_block(canvas: Canvas, y: float, member: Member, options: dict) -> float:
    y = _row(canvas, y, "氏名", f"{member.name}（{member.name_kana}）")
    y = _row(canvas, y, "生年月日・性別",
             f"{western(member.birth_date)}生　{SEX_LABELS.get(member.sex, '－')}")
    if options.get("relationship"):
        y = _row(canvas, y, "続柄", member.relationship)
    if options.get("honseki"):
        y = _row(canvas, y, "本籍", member.honseki or "－")
        y = _row(canvas, y, "筆頭者", member.hittosha or "－")
    return y


def draw_kisai(canvas: Canvas, content: CertificateContent) -> None:
    y = A4[1] - 48 * mm
    y = _row(canvas, y, "住所", content.address)
    _member_block(canvas, y, content.holder, content.options)


def draw_inkan(canvas: Canvas, content: CertificateContent) -> None:
    top = A4[1] - 48 * mm
    canvas.setFont("Gothic", 10)
    canvas.drawString(25 * mm, top, "印影")
    canvas.rect(25 * mm, top - 45 * mm, 40 * mm, 40 * mm)
    box = (27 * mm, top - 43 * mm, 36 * mm)
    if content.seal_image:
        from reportlab.lib.utils import ImageReader
        canvas.drawImage(ImageReader(io.BytesIO(content.seal_image)), box[0], box[1],
                         box[2], box[2], mask="auto", preserveAspectRatio=True)
    else:
        draw_name_seal(canvas, content.holder.name.split("\u3000")[0], box)
    y = top - 55 * mm
    y = _row(canvas, y, "登録番号", content.seal_registration_number)
    y = _row(canvas, y, "氏名", f"{content.holder.name}（{content.holder.name_kana}）")
    y = _row(canvas, y, "生年月日", western(content.holder.birth_date) + "生")
    _row(canvas, y, "住所", content.address)


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


def draw_tax(canvas: Canvas, content: CertificateContent) -> None:
    y = A4[1] - 48 * mm
    y = _row(canvas, y, "年度", f"{content.fiscal_year}年度（{content.fiscal_year - 1}年中の所得）")
    y = _row(canvas, y, "氏名", f"{content.holder.name}（{content.holder.name_kana}）")
    y = _row(canvas, y, "住所", content.address)
    for label, key in (("総所得金額", "total_income"), ("課税所得金額", "taxable_income"),
                       ("市町村民税", "municipal_tax"), ("道府県民税", "prefectural_tax")):
        y = _row(canvas, y, label, f"{content.tax.get(key, 0):,}円")


BODIES = {
    CertificateType.JUMINHYO: draw_juminhyo,
    CertificateType.JUMINHYO_KISAI: draw_kisai,
    CertificateType.INKAN: draw_inkan,
    CertificateType.SHOTOKU_KAZEI: draw_tax,
}

STATEMENTS = {
    CertificateType.JUMINHYO: "この写しは、住民票の原本と相違ないことを証明する。",
    CertificateType.JUMINHYO_KISAI: "上記の事項は、住民票に記載されていることを証明する。",
    CertificateType.INKAN: "この写しは、登録されている印影と相違ないことを証明する。",
    CertificateType.SHOTOKU_KAZEI: "上記のとおり相違ないことを証明する。",
}


def draw_certification(canvas: Canvas, content: CertificateContent) -> None:
    y = 80 * mm
    canvas.setFillColor(black)
    canvas.setFont("Mincho", 11)
    canvas.drawString(25 * mm, y, STATEMENTS[content.certificate_type])
    canvas.drawString(25 * mm, y - 9 * mm, wareki(content.issued_at.date()))
    canvas.setFont("Mincho", 14)
    canvas.drawRightString(A4[0] - 55 * mm, y - 20 * mm, f"{content.city_name}長")
    draw_municipal_seal(canvas, content, (A4[0] - 52 * mm, y - 30 * mm, 26 * mm))


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
    canvas.setFillColor(black)
    canvas.setFont("Gothic", 9)
    lines = [f"交付番号　{content.issuance_number}",
             f"確認コード　{content.verification_code}",
             "この証明書はコンビニ交付により発行され、市の電子署名が付いています。",
             "確認コードまたは右のQRコードで、交付の事実を確認できます。",
             content.verify_url]
    for i, line in enumerate(lines):
        canvas.drawString(25 * mm, 38 * mm - i * 5 * mm, line)
    draw_qr(canvas, content.verify_url, A4[0] - 50 * mm, 16 * mm, 28 * mm)


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Vector QR code (segno's module matrix drawn as rectangles)."""
    code = segno.make(data, error="m")
    matrix = code.matrix
    module = size / len(matrix)
    canvas.saveState()
    canvas.setFillColor(black)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(x + c * module, y + size - (r + 1) * module, module, module,
                            stroke=0, fill=1)
    canvas.restoreState()
