"""JAHIS texts shared by the medication tests (and the benchmark)."""
from __future__ import annotations

# The spec's worked example (appendix 4, shortened), as a pharmacy's QR code holds it.
SPEC_EXAMPLE = """JAHISTC08,1
1,鈴木 太郎,1,19580303,,,,,,,
5,R020410,1
11,株式会社 工業会薬局 駅前店,13,4,1234567,,,,1
15,薬剤師 太郎,,1
51,医療法人 工業会病院,13,1,1234567,1
55,工業会 次郎,内科,1
201,1,ｺﾘｵﾊﾟﾝｶﾌﾟｾﾙ5mg,6,Ｃ,2,620004992,1,,,
301,1,【分３ 毎食後服用】,5,日分,1,1,,1
421,服用忘れによりｺﾘｵﾊﾟﾝｶﾌﾟｾﾙ12錠残薬あり,1
501,正しい飲み方は薬袋等をご覧下さい。,1
"""


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def cp932(text: str) -> bytes:
    return crlf(text).encode("cp932")


def visit_text(date: str, pharmacy: str, pharmacy_code: str, drug: str, code_kind: str,
               code: str, days: int, generic: str = "", form: str = "1") -> str:
    """One visit group with one RP: enough to build timelines and overlap cases."""
    return (f"5,{date},1\n11,{pharmacy},39,4,{pharmacy_code},,,,1\n15,薬剤師 花子,,1\n"
            f"51,高知中央病院,39,1,0123456,1\n55,土佐 一郎,内科,1\n"
            f"201,1,{drug},1,錠,{code_kind},{code},1,{generic},,\n"
            f"301,1,1日1回朝食後,{days},日分,{form},1,,1\n")


# Two pharmacies dispensing amlodipine (same YJ first 7 = same ingredient) in overlapping
# periods, and an allergy note. Used by view, browser and bench tests.
DUPLICATE_CASE = ("JAHISTC08,1\n1,高知 花子,2,19900401,,,,,,,\n"
                  "2,1,ペニシリン系抗生物質で発疹,1\n"
                  + visit_text("20250301", "はりまや薬局", "0412345", "アムロジピン錠5mg「サワイ」",
                               "4", "2171022F1022", 60)
                  + visit_text("20250315", "ごめん駅前薬局", "0498765", "ノルバスク錠5mg",
                               "4", "2171022F2029", 30))


def for_patient(text: str, name: str = "高知 花子", sex: str = "2", birth: str = "19900401",
                kana: str = "") -> str:
    """The same document with its patient record (1) naming someone else."""
    lines = text.split("\n")
    lines[1] = f"1,{name},{sex},{birth},,,,,,,{kana}"
    return "\n".join(lines)


# The spec's example as it would be for 高知 花子 (born 1990-04-01), the tests' resident.
HANAKO_EXAMPLE = for_patient(SPEC_EXAMPLE)
