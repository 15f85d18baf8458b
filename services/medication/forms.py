"""Forms of the medication service (Flask-WTF: every POST carries a CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from portal.api import PortalForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

MAX_TEXT = 200_000



class ImportForm(PortalForm):
    """One document from one source: a file, pasted text, or photos of its QR codes."""

    MAX_BYTES = 2 * 1024 * 1024  # a notebook of years is a few hundred kilobytes

    file = FileField(_l("ファイル（JAHIS形式のテキスト）"))
    text = TextAreaField(_l("QRコードの内容を貼り付け"), validators=[Optional(), Length(max=MAX_TEXT)])
    photos = MultipleFileField(_l("QRコードの写真（複数のときは読み取る順に選択）"))

    def sources(self) -> list[str]:
        chosen = []
        if self.file.data and getattr(self.file.data, "filename", ""):
            chosen.append("file")
        if (self.text.data or "").strip():
            chosen.append("text")
        if any(getattr(p, "filename", "") for p in (self.photos.data or [])):
            chosen.append("qr")
        return chosen

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if len(self.sources()) != 1:
            self.text.errors.append(_l("ファイル・貼り付け・写真のうち、どれか一つを選んでください。"))
            return False
        return True


class SearchForm(PortalForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("薬の名前・薬局名"), validators=[Optional(), Length(max=100)])
