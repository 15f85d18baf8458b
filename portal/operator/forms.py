"""Forms of the operator console (Flask-WTF, CSRF-protected)."""
from __future__ import annotations

from portal.web.i18n import lazy_gettext as _l
from portal.web.forms import PortalForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

COLOUR = Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("色は「#1b5e20」の形で入力してください。"))
HOURS = Regexp(r"^$|^\d{2}:\d{2}-\d{2}:\d{2}$",
               message=_l("受付時間は「08:30-17:15」の形で入力してください。"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CitySettingsForm(PortalForm):
    """団体設定の編集."""

    name = StringField(_l("団体名"), validators=[DataRequired(_l("団体名を入力してください。")),
                                               Length(max=64)])
    name_en = StringField(_l("団体名（英語）"), validators=[Optional(), Length(max=64)])
    prefecture = StringField(_l("都道府県"), validators=[Optional(), Length(max=16)])
    population = IntegerField(_l("人口"), validators=[
        InputRequired(_l("人口を入力してください。")),   # 0 is a number (DataRequired refuses it)
        NumberRange(min=0, max=50_000_000, message=_l("人口は0以上の整数です。"))])
    services = MultiCheckboxField(_l("利用するサービス"), choices=[], validate_choice=True)
    hours_counter = StringField(_l("窓口の受付時間"), validators=[Optional(), HOURS])
    hours_convenience = StringField(_l("コンビニ交付の受付時間"), validators=[Optional(), HOURS])
    display_name = StringField(_l("表示名"), validators=[Optional(), Length(max=200)])
    primary_colour = StringField(_l("基調色"), validators=[Optional(), COLOUR])
    accent_colour = StringField(_l("強調色"), validators=[Optional(), COLOUR])
    logo = StringField(_l("ロゴ画像の参照"), validators=[Optional(), Length(max=200)])
    seal_image = StringField(_l("公印（印影）画像の参照"), validators=[Optional(), Length(max=200)])
    catalogue = TextAreaField(_l("証明書の種類と手数料（1行に「種類コード,名称,手数料」）"),
                              validators=[Optional(), Length(max=5000)])
    note = StringField(_l("変更理由"), validators=[Optional(), Length(max=200)])


class ConfigUploadForm(PortalForm):
    """設定ファイルの取り込み（TOML または JSON）."""

    file = FileField(_l("設定ファイル（TOML・JSON）"),
                     validators=[FileRequired(_l("ファイルを選んでください。"))])
    note = StringField(_l("変更理由"), validators=[Optional(), Length(max=200)])


CATEGORY_CHOICES = [SelectChoice("build", _l("初期（更改）費用")),
                    SelectChoice("operation", _l("運用費用")),
                    SelectChoice("data_centre", _l("データセンター経費")),
                    SelectChoice("shared_change", _l("共同改修（法改正等）"))]


class CostLineForm(PortalForm):
    """費目の登録."""

    fiscal_year = IntegerField(_l("年度"), validators=[
        DataRequired(_l("年度を入力してください。")),
        NumberRange(min=2000, max=2100, message=_l("年度は2000〜2100です。"))])
    category = SelectField(_l("区分"), choices=CATEGORY_CHOICES)
    label = StringField(_l("費目"), validators=[DataRequired(_l("費目を入力してください。")),
                                              Length(max=100)])
    amount_yen = IntegerField(_l("金額（円）"), validators=[
        DataRequired(_l("金額を入力してください。")),
        NumberRange(min=1, max=10**12, message=_l("金額は1円以上です。"))])
    weight_equal = IntegerField(_l("均等割の重み"), default=30, validators=[
        Optional(),
        NumberRange(min=0, max=1000, message=_l("重みは0〜1000です。"))])
    weight_population = IntegerField(_l("人口割の重み"), default=70, validators=[
        Optional(),
        NumberRange(min=0, max=1000, message=_l("重みは0〜1000です。"))])
    weight_usage = IntegerField(_l("利用割の重み"), default=0, validators=[
        Optional(),
        NumberRange(min=0, max=1000, message=_l("重みは0〜1000です。"))])
    usage_metric = StringField(_l("利用量の指標（* はすべて、例: medication:*）"), default="*",
                               validators=[Optional(), Length(max=80)])
    note = StringField(_l("備考"), validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        weights = [self.weight_equal.data or 0, self.weight_population.data or 0,
                   self.weight_usage.data or 0]
        if ok and sum(weights) == 0:
            self.weight_equal.errors.append(_l("重みの合計が0です。"))
            return False
        return ok


class BasisForm(PortalForm):
    """按分基礎の確定（人口と、その年度の利用量を保存）."""

    fiscal_year = IntegerField(_l("年度"), validators=[
        DataRequired(_l("年度を入力してください。")),
        NumberRange(min=2000, max=2100, message=_l("年度は2000〜2100です。"))])
