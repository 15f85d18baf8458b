"""What the reader found wrong, named by line, record and field.

Messages are Japanese templates marked with `N_` (not translated here: this package knows
nothing of Flask); the web layer passes `template` through gettext and formats `params`."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

ERROR, WARNING = "error", "warning"


def N_(text: str) -> str:
    """Mark a message for the translation catalog without translating it here."""
    return text


MESSAGES = {
    "no_header": N_("先頭行がJAHISヘッダー（JAHISTCnn,出力区分）ではありません。"),
    "prescription_symbol": N_("処方箋2次元シンボル（JAHIS10…）です。お薬手帳の形式ではありません。"),
    "unknown_version": N_("版番号 %(version)s は未知の版です。既知の版として読み取りました。"),
    "bad_output_kind": N_("出力区分「%(value)s」は 1 または 2 ではありません。"),
    "empty": N_("データが空です。"),
    "undecodable": N_("文字コード（%(encoding)s）として読めないバイトがあります。"),
    "unknown_record": N_("レコード番号「%(number)s」は未知のため、そのまま保持しました。"),
    "missing_fields": N_("項目が %(missing)d 個足りません（%(expected)d 個のはずが %(found)d 個）。"),
    "extra_fields": N_("余分な項目が %(extra)d 個あり（%(values)s）、保存しませんでした。"),
    "required_empty": N_("必須項目が空です。"),
    "bad_date": N_("日付「%(value)s」は存在しない日付か、YYYYMMDD・和暦 GYYMMDD の形ではありません。"),
    "date_not_kept": N_("日付「%(value)s」は存在しない日付か、YYYYMMDD・和暦 GYYMMDD の形ではないため、この項目は空のまま取り込みました。"),
    "before_era": N_("日付「%(value)s」は元号の始まりより前です。"),
    "not_digits": N_("「%(value)s」は数字ではありません。"),
    "not_decimal": N_("「%(value)s」は数値ではありません。"),
    "bad_rp": N_("RP番号「%(value)s」は数字ではありません。"),
    "outside_visit": N_("調剤等年月日レコード（5）より前にあるため、どの調剤にも属しません。"),
    "duplicate": N_("このレコードは2つ目以降のため、保存しませんでした（最初のものを使いました）。"),
    "orphan_drug_note": N_("この RP に薬品レコード（201）がないため、保持のみしました。"),
    "orphan_ingredient": N_("対応する一般用医薬品レコード（3）がありません。"),
    "stray_header": N_("途中にヘッダー行があります。無視しました。"),
    "split_missing_control": N_("分割データの一部に分割制御レコード（911）がありません。"),
    "split_mismatch": N_("分割データのIDまたは分割数が他の部分と一致しません（%(value)s）。"),
    "split_bad_number": N_("分割番号「%(value)s」が不正です。"),
    "split_duplicate": N_("分割番号 %(value)s が重複しています。"),
    "split_incomplete": N_("分割データが揃っていません（不足: %(value)s）。"),
    "fragment_no_header": N_("最初のQRコードにヘッダーがありません。読み取り順を確認してください。"),
}


@dataclass(frozen=True)
class Diagnostic:
    """One finding. `line` is 1-based in the input as given (before split parts are
    reordered), `record` the record number, `field` the field's Japanese label."""

    severity: str
    code: str
    line: int | None = None
    record: str | None = None
    field: str | None = None
    params: dict = dataclasses.field(default_factory=dict, compare=False, hash=False)

    @property
    def template(self) -> str:
        return MESSAGES[self.code]

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def location(self) -> str:
        """Where, in Japanese: `3行目 レコード201 「薬品名称」`."""
        parts = []
        if self.line is not None:
            parts.append(f"{self.line}行目")
        if self.record is not None:
            parts.append(f"レコード{self.record}")
        if self.field is not None:
            parts.append(f"「{self.field}」")
        return " ".join(parts)

    def __str__(self) -> str:
        text = self.template % self.params if self.params else self.template
        where = self.location()
        return f"{where}: {text}" if where else text
