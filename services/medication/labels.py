"""Japanese labels shown by the pages, marked for the translation catalog."""
from __future__ import annotations

from portal.web.i18n import gettext, lazy_gettext as _l

from services.medication.forms import MAX_FILE_BYTES, MAX_FILES, megabytes

NOTE_KINDS = {"1": _l("アレルギー歴"), "2": _l("副作用歴"), "3": _l("既往歴"), "9": _l("その他")}
DOSAGE_FORMS = {"1": _l("内服"), "2": _l("内滴"), "3": _l("屯服"), "4": _l("注射"), "5": _l("外用"),
                "6": _l("浸煎"), "7": _l("湯"), "9": _l("材料"), "10": _l("その他")}
VISIT_NOTE_KINDS = {"caution": _l("服用注意"), "institution": _l("医療機関からの情報"),
                    "leftover": _l("残薬確認"), "remark": _l("備考"), "patient": _l("本人の記入")}
MEMO_KINDS = {"memo": _l("手帳メモ"), "patient": _l("本人の記入"),
              "family_pharmacist": _l("かかりつけ薬剤師")}
ALERT_KINDS = {"same_ingredient": _l("同一成分の重複"), "same_class": _l("同効薬（同じ薬効分類）の重複"),
               "same_drug": _l("同一薬品の重複")}
ALERT_BASES = {"structured_code": _l("YJコード・厚労省コードによる判定"),
               "drug_master": _l("薬品マスタで薬価基準コードに置き換えて判定"),
               "exact_code": _l("薬品コードが一致"), "generic_name": _l("一般名が一致"),
               "name": _l("薬品名が一致")}
UNCHECKED_REASONS = {
    "no_master": _l("薬品マスタがないため、レセプト電算コード・HOTコードの成分がわかりません。"),
    "not_in_master": _l("薬品コードが、読み込まれている薬品マスタにありません。"),
    "no_code": _l("成分のわかる薬品コードも一般名もなく、薬品名も異なります。")}
CODE_KINDS = {"2": _l("レセ電"), "3": _l("厚労省"), "4": "YJ", "6": "HOT"}
MASTER_TITLES = {"hot": _l("医薬品HOTコードマスター（MEDIS-DC）"),
                 "ssk": _l("医薬品マスター（支払基金）")}
IMPORT_CATEGORIES = {"visits": _l("調剤記録"), "notes": _l("アレルギー・副作用歴など"),
                     "otc_drugs": _l("一般用医薬品"),
                     "memos": _l("手帳メモ・本人の記入・かかりつけ薬剤師"),
                     "other": _l("その他の記録（未知のレコード）")}
PATIENT_MISMATCHES = {"name": _l("氏名（漢字・カナとも）"), "birth_date": _l("生年月日"),
                      "sex": _l("性別")}
PHOTO_REASONS = {"unreadable_image": _l("画像として読み込めません。"),
                 "no_qr": _l("QRコードが見つかりません。明るい場所で、QRコード全体を写してください。"),
                 "sequence_incomplete": _l("連結されたQRコードの一部がありません。足りない番号（全体の数）：")}


def describe(diagnostic) -> str:
    """A reader diagnostic in the viewer's language: where, then what."""
    text = gettext(diagnostic.template)
    if diagnostic.params:
        text = text % diagnostic.params
    where = diagnostic.location()
    return f"{where}：{text}" if where else text


def template_labels() -> dict:
    return {"describe": describe, "note_kinds": NOTE_KINDS, "dosage_forms": DOSAGE_FORMS,
            "visit_note_kinds": VISIT_NOTE_KINDS, "memo_kinds": MEMO_KINDS,
            "alert_kinds": ALERT_KINDS, "alert_bases": ALERT_BASES,
            "unchecked_reasons": UNCHECKED_REASONS, "code_kinds": CODE_KINDS,
            "master_titles": MASTER_TITLES,
            "photo_reasons": PHOTO_REASONS, "import_categories": IMPORT_CATEGORIES,
            "patient_mismatches": PATIENT_MISMATCHES,
            "file_limit": megabytes(MAX_FILE_BYTES), "max_files": MAX_FILES}
