"""Japanese fonts for PDFs: Debian's IPAex Gothic and Mincho (fonts-ipaexfont-gothic,
fonts-ipaexfont-mincho), registered with reportlab once; reportlab embeds the glyphs a
document uses as a subset. Every PDF of the portal and its services goes through here."""
from __future__ import annotations

from pathlib import Path

GOTHIC, MINCHO = "gothic", "mincho"
FONT_FILES = {
    GOTHIC: ("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
             "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf"),
    MINCHO: ("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
             "/usr/share/fonts/truetype/ipaexfont-mincho/ipaexm.ttf"),
}


class FontMissing(RuntimeError):
    """The Japanese fonts are not installed; pages answer 503, commands one line."""


def font_file(kind: str = GOTHIC) -> Path:
    for candidate in FONT_FILES[kind]:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing(f"IPAex {kind} font not found ({', '.join(FONT_FILES[kind])}): "
                      f"apt-get install fonts-ipaexfont-{kind}")


def japanese_font(name: str, kind: str = GOTHIC) -> str:
    """Register the font under `name` (once) and return the name, for reportlab styles."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(font_file(kind))))
    return name
