"""Forms of the convenience_issuance service (Flask-WTF)."""
from __future__ import annotations

from portal.web.i18n import lazy_gettext as _l
from portal.api import PortalForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class VerifyForm(PortalForm):
    """確認コードの入力 (a GET form anyone may use; nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    code = StringField(_l("確認コード"), validators=[DataRequired(_l("確認コードを入力してください。")),
                                                 Length(max=40)])


class UploadForm(PortalForm):
    """証明書PDFの確認: the PDF is read in memory, checked and dropped (never stored)."""

    pdf = FileField(_l("証明書のPDFファイル"), validators=[FileRequired(_l("PDFファイルを選んでください。"))])


class RevokeForm(PortalForm):
    """失効 of an issued certificate by the city's issuance staff."""

    reason = StringField(_l("失効の理由"), validators=[
        DataRequired(_l("失効の理由を入力してください。")), Length(max=200, message=_l("200文字以内で入力してください。"))])
