from __future__ import annotations

from portal.web.i18n import lazy_gettext as _l
from portal.web.forms import PortalForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp


class LoginForm(PortalForm):
    municipality_code = StringField(_l("団体コード（6桁）"), validators=[
        DataRequired(_l("団体コードを入力してください。")),
        Regexp(r"^\d{6}$", message=_l("団体コードは6桁の数字です。"))])
    username = StringField(_l("利用者名"), validators=[
        DataRequired(_l("利用者名を入力してください。")), Length(max=64)])
    password = PasswordField(_l("パスワード"), validators=[
        DataRequired(_l("パスワードを入力してください。")), Length(max=256)])


class TotpForm(PortalForm):
    code = StringField(_l("確認コード（6桁）"), validators=[
        DataRequired(_l("確認コードを入力してください。")),
        Regexp(r"^\d{6}$", message=_l("確認コードは6桁の数字です。"))])
