"""Forms of the medication service (Flask-WTF: every POST carries a CSRF token)."""
from __future__ import annotations

import os

from portal.web.i18n import lazy_gettext as _l
from portal.api import PortalForm
from flask_wtf.file import MultipleFileField
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

MAX_TEXT = 200_000

# Upload limits (docs/medication.md): a notebook of years is a few hundred kilobytes and a
# phone photo a few megabytes. Checked on the sizes before any file is read.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 12


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


class ImportForm(PortalForm):
    """One document from one source: files (the parts of a split document together),
    pasted text, or photos of its QR codes (several codes, in any order)."""

    MAX_BYTES = MAX_FILE_BYTES

    file = MultipleFileField(_l("ファイル（JAHIS形式のテキスト。分割されたものはまとめて選択）"))
    text = TextAreaField(_l("QRコードの内容を貼り付け"), validators=[Optional(), Length(max=MAX_TEXT)])
    photos = MultipleFileField(_l("QRコードの写真（複数可、順番は問いません）"))

    def uploads(self, field) -> list:
        return [f for f in (field.data or []) if getattr(f, "filename", "")]

    def sources(self) -> list[str]:
        chosen = []
        if self.uploads(self.file):
            chosen.append("file")
        if (self.text.data or "").strip():
            chosen.append("text")
        if self.uploads(self.photos):
            chosen.append("qr")
        return chosen

    def validate_file(self, field) -> None:
        self.check_sizes(field)

    def validate_photos(self, field) -> None:
        self.check_sizes(field)

    def check_sizes(self, field) -> None:
        """At most MAX_FILES files of MAX_FILE_BYTES each, measured on the spooled upload
        (a seek to its end) before anything is read into memory."""
        uploads = self.uploads(field)
        if len(uploads) > MAX_FILES:
            raise ValidationError(_l("一度に選べるのは %(n)d 個までです。", n=MAX_FILES))
        for upload in uploads:
            size = upload.stream.seek(0, os.SEEK_END)
            upload.stream.seek(0)
            if size > MAX_FILE_BYTES:
                raise ValidationError(_l(
                    "「%(name)s」は %(size)s MB あります。1つのファイルは %(limit)s MB までです。",
                    name=upload.filename, size=megabytes(size), limit=megabytes(MAX_FILE_BYTES)))

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
