"""Staff entry forms, one per record type, built from the field catalogue in services.py
so that a field's label, type and possible range are written down once."""
from __future__ import annotations

import re
from functools import lru_cache

from portal.web.i18n import lazy_gettext as _l
from portal.api import PortalForm
from wtforms import (BooleanField, DateField, DecimalField, HiddenField, IntegerField,
                     SelectChoice, SelectField, StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, \
    ValidationError

from services.maternal_health.services import FieldSpec, Kind, RecordType

REQUIRED = _l("入力してください。")
NOT_A_DATE = _l("日付を「2025-04-01」の形で入力してください。")
NOT_A_NUMBER = _l("数値を入力してください。")
NOT_AN_INTEGER = _l("整数を入力してください。")


class _JapaneseParse:
    """Field types whose parse error is our Japanese message, not WTForms' English one."""
    parse_error = NOT_A_NUMBER

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None   # empty: the presence validators decide
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            self.data = None
            raise ValueError(str(self.parse_error)) from error


class JaDateField(_JapaneseParse, DateField):
    parse_error = NOT_A_DATE


class JaIntegerField(_JapaneseParse, IntegerField):
    parse_error = NOT_AN_INTEGER


class JaDecimalField(_JapaneseParse, DecimalField):
    parse_error = NOT_A_NUMBER


def _range(spec: FieldSpec):
    return NumberRange(min=spec.low, max=spec.high, message=_l(
        "%(low)s〜%(high)sの範囲で入力してください。", low=f"{spec.low:g}", high=f"{spec.high:g}"))


def _clock_time(_form, field) -> None:
    if field.data and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", field.data):
        raise ValidationError(_l("時刻を「14:05」の形で入力してください。"))


def _field(spec: FieldSpec):
    """A WTForms field for one catalogue entry, its range checks attached."""
    presence = [InputRequired(message=REQUIRED)] if spec.required else [Optional()]
    label = _l(spec.label)
    ranged = [_range(spec)] if spec.low is not None else []
    if spec.kind is Kind.DATE:
        return JaDateField(label, presence)
    if spec.kind is Kind.INT:
        return JaIntegerField(label, presence + ranged, render_kw={"inputmode": "numeric"})
    if spec.kind is Kind.DECIMAL:
        return JaDecimalField(label, presence + ranged, places=None,
                              render_kw={"inputmode": "decimal"})
    if spec.kind is Kind.CHOICE:
        choices = [SelectChoice("", _l("（選択してください）"))] + [
            SelectChoice(v, _l(t)) for v, t in spec.choices]
        validators = [DataRequired(message=REQUIRED)] if spec.required else [Optional()]
        return SelectField(label, validators, choices=choices)
    if spec.kind is Kind.BOOL:
        return BooleanField(label)
    if spec.kind is Kind.TIME:
        return StringField(label, [Optional(), _clock_time], render_kw={"placeholder": "14:05"})
    if spec.kind is Kind.LONGTEXT:
        return TextAreaField(label, [Optional(), Length(max=2000)])
    return StringField(label, [Optional(), Length(max=100)])


class _RecordForm(PortalForm):
    """Base of the generated forms: turns submitted data into model values."""

    record_type: RecordType

    def values(self) -> dict:
        out = {}
        for spec in self.record_type.fields:
            data = getattr(self, spec.name).data
            if spec.kind is Kind.DECIMAL and data is not None:
                data = float(data)
            if data == "":
                data = None
            out[spec.name] = data
        return out

    def load(self, row) -> None:
        """Fill the form from a stored record (for an amendment)."""
        for spec in self.record_type.fields:
            getattr(self, spec.name).data = getattr(row, spec.name)


class _AmendMixin:
    reason = TextAreaField(_l("訂正の理由"), [DataRequired(message=_l("訂正の理由を入力してください。")),
                                         Length(max=500)])
    # a correction moved onto the day of other records adds no record: the tick says so
    confirm_duplicate = BooleanField(_l("同じ日の記録があることを確認したうえで、訂正する"))


class _ConfirmMixin:
    """The second step of an entry that looks like one already kept: the page lists the
    records it resembles and asks again. `duplicate_of` carries the ids shown, so a tick
    confirms those records only; an entry changed to resemble others is asked about anew."""
    duplicate_of = HiddenField()
    confirm_duplicate = BooleanField(_l("同じ日の記録があることを確認したうえで、もう1件記録する"))

    def confirmed(self) -> tuple[int, ...]:
        """The ids of the records the staff member saw and confirmed; () without a tick."""
        text = self.duplicate_of.data or ""
        if not self.confirm_duplicate.data or not re.fullmatch(r"\d+(,\d+)*", text):
            return ()
        return tuple(int(part) for part in text.split(","))

    def ask_about(self, rows: list) -> None:
        self.duplicate_of.data = ",".join(str(row.id) for row in rows)
        self.confirm_duplicate.data = False


@lru_cache(maxsize=None)
def form_class(record_type: RecordType, amend: bool = False) -> type[_RecordForm]:
    """The form class of `record_type` (with a reason field for an amendment)."""
    attrs = {spec.name: _field(spec) for spec in record_type.fields}
    attrs["record_type"] = record_type
    bases = (_AmendMixin, _ConfirmMixin, _RecordForm) if amend else (_ConfirmMixin, _RecordForm)
    return type(f"{record_type.key.title()}{'Amend' if amend else ''}Form", bases, attrs)


class SearchForm(PortalForm):
    class Meta:
        csrf = False
    q = StringField(_l("氏名・カナ・住民番号"), [Optional(), Length(max=64)])
