"""The JAHIS reader and writer (services.medication.jahis): what the spec and real QR
codes contain, and how the reader reports what it cannot read."""
from __future__ import annotations

from datetime import date

import pytest

from services.medication.jahis import parse, parse_fragments, split_for_qr, write, write_text
from tests.medication.jahis_samples import SPEC_EXAMPLE, cp932, crlf


def codes(result) -> list[tuple[str, int | None, str | None]]:
    return [(d.code, d.line, d.field) for d in result.diagnostics]


def test_spec_example_reads_completely():
    result = parse(cp932(SPEC_EXAMPLE))
    assert result.ok and result.encoding == "cp932"
    doc = result.document
    assert doc.version == "08" and doc.output_kind == "1"
    assert doc.patient.name == "鈴木 太郎" and doc.patient.birth_date == date(1958, 3, 3)
    [visit] = doc.visits
    assert visit.dispensed_on == date(2020, 4, 10)
    assert visit.pharmacy.name == "株式会社 工業会薬局 駅前店" and visit.pharmacy.code == "1234567"
    assert visit.pharmacists[0].name == "薬剤師 太郎"
    assert visit.prescriber.name == "医療法人 工業会病院"
    [doctor] = visit.doctors
    assert (doctor.name, doctor.department) == ("工業会 次郎", "内科")
    [rp] = doctor.rps
    assert rp.number == 1
    assert (rp.drugs[0].name, rp.drugs[0].dose, rp.drugs[0].unit) == ("ｺﾘｵﾊﾟﾝｶﾌﾟｾﾙ5mg", "6", "Ｃ")
    assert (rp.drugs[0].code_kind, rp.drugs[0].code) == ("2", "620004992")
    assert (rp.usage.text, rp.usage.quantity, rp.usage.quantity_unit) == ("【分３ 毎食後服用】", "5", "日分")
    assert visit.leftover_notes[0].text == "服用忘れによりｺﾘｵﾊﾟﾝｶﾌﾟｾﾙ12錠残薬あり"
    assert visit.remarks[0].text == "正しい飲み方は薬袋等をご覧下さい。"


def test_spec_example_round_trips_through_the_writer():
    doc = parse(cp932(SPEC_EXAMPLE)).document
    assert parse(write(doc)).document == doc
    # Dates come back Gregorian; everything else is the spec's text.
    assert write_text(doc) == crlf(SPEC_EXAMPLE).replace("5,R020410,1", "5,20200410,1")


def test_half_width_katakana_in_cp932_single_bytes():
    text = "JAHISTC07,1\n5,20240105,1\n201,1,ﾛｷｿﾆﾝ錠60mg,3,ﾄｳ,2,620098801,1,,,\n"
    raw = cp932(text)
    assert b"\xdb\xb7\xbf\xc6\xdd" in raw  # ﾛｷｿﾆﾝ: one byte each in CP932
    result = parse(raw)
    assert result.ok and result.encoding == "cp932"
    drug = result.document.visits[0].rps_without_doctor[0].drugs[0]
    assert (drug.name, drug.unit) == ("ﾛｷｿﾆﾝ錠60mg", "ﾄｳ")


def test_full_width_comma_stays_inside_one_field():
    text = "JAHISTC08,1\n5,20240105,1\n201,1,ビタミンＢ１，Ｂ６配合錠,3,錠,1,,1,,,\n"
    drug = parse(cp932(text)).document.visits[0].rps_without_doctor[0].drugs[0]
    assert drug.name == "ビタミンＢ１，Ｂ６配合錠" and drug.dose == "3"


def test_writer_turns_a_half_width_comma_into_full_width():
    doc = parse(cp932("JAHISTC08,1\n5,20240105,1\n201,1,薬,1,錠,1,,1,,,\n")).document
    doc.visits[0].rps_without_doctor[0].drugs[0].name = "ビタミンB1,B6"
    again = parse(write(doc)).document.visits[0].rps_without_doctor[0].drugs[0]
    assert again.name == "ビタミンB1，B6" and again.dose == "1"


@pytest.mark.parametrize("written, expected", [
    ("R020410", date(2020, 4, 10)), ("H310430", date(2019, 4, 30)),
    ("S330303", date(1958, 3, 3)), ("T150101", date(1926, 1, 1)),
    ("M450729", date(1912, 7, 29)), ("20200410", date(2020, 4, 10))])
def test_era_and_gregorian_dates(written, expected):
    result = parse(cp932(f"JAHISTC08,1\n5,{written},1\n"))
    assert result.ok and result.document.visits[0].dispensed_on == expected


def test_bad_dates_are_named_by_line_and_field():
    result = parse(cp932("JAHISTC08,1\n4,メモ,X010101,2\n5,R021340,1\n"))
    assert ("date_not_kept", 2, "メモ入力年月日") in codes(result)
    assert ("bad_date", 3, "調剤等年月日") in codes(result)
    assert not result.ok  # a visit without a valid date cannot be stored
    assert "3行目 レコード5 「調剤等年月日」" in str(result.errors[-1])


def test_date_before_its_era_is_a_warning():
    result = parse(cp932("JAHISTC08,1\n5,R010430,1\n"))  # 令和 began on 1 May 2019
    assert result.ok and ("before_era", 2, "調剤等年月日") in codes(result)


def test_unknown_record_numbers_are_kept_and_written_back():
    text = "JAHISTC08,1\n77,未来の記録,1\n5,20240105,1\n888,a,b\n"
    result = parse(cp932(text))
    assert result.ok
    assert [("unknown_record", 2), ("unknown_record", 4)] == [(c, l) for c, l, _ in codes(result)]
    assert result.document.unknown[0].fields == ("未来の記録", "1")
    assert result.document.visits[0].unknown[0].number == "888"
    assert "888,a,b\r\n" in write_text(result.document)


def test_missing_and_extra_fields():
    text = "JAHISTC08,1\n5,20240105,1,余分\n201,1,ﾃｽﾄ錠\n301,1,,7\n"
    result = parse(cp932(text))
    found = codes(result)
    assert ("extra_fields", 2, None) in found
    assert ("missing_fields", 3, None) in found
    assert ("required_empty", 4, "用法名称") in found
    assert not result.ok
    drug = result.document.visits[0].rps_without_doctor[0].drugs[0]
    assert drug.name == "ﾃｽﾄ錠" and drug.dose == ""


def test_records_before_any_visit_are_errors():
    result = parse(cp932("JAHISTC08,1\n201,1,薬,1,錠,1,,1,,,\n5,20240105,1\n"))
    assert ("outside_visit", 2, None) in codes(result) and not result.ok


@pytest.mark.parametrize("version", [f"{n:02d}" for n in range(1, 9)])
def test_every_version_is_accepted(version):
    result = parse(cp932(f"JAHISTC{version},2\n5,20240105,2\n"))
    assert result.ok and result.diagnostics == [] and result.document.version == version


def test_unknown_version_is_read_with_a_warning():
    result = parse(cp932("JAHISTC09,1\n5,20240105,1\n"))
    assert result.ok and codes(result)[0][0] == "unknown_version"


def test_prescription_symbol_is_not_a_notebook():
    result = parse(cp932("JAHIS10\n1,1,1234567,13,1,医院\n"))
    assert codes(result)[0][0] == "prescription_symbol" and not result.ok


@pytest.mark.parametrize("encode", [
    lambda t: crlf(t).encode("utf-8"), lambda t: b"\xef\xbb\xbf" + crlf(t).encode("utf-8"),
    lambda t: t.encode("cp932"), lambda t: t.replace("\n", "\r").encode("cp932"),
    lambda t: crlf(t).encode("shift_jis") + b"\x1a"])
def test_encodings_and_line_ends(encode):
    reference = parse(cp932(SPEC_EXAMPLE)).document
    result = parse(encode(SPEC_EXAMPLE))
    assert result.ok and result.document == reference


def test_undecodable_bytes_are_reported_on_their_line():
    raw = cp932("JAHISTC08,1\n5,20240105,1\n") + b"201,1,\x81\x7f\xff,1\r\n"
    result = parse(raw)
    assert ("undecodable", 3, None) in codes(result) and not result.ok


def _three_parts() -> list[bytes]:
    doc = parse(cp932(SPEC_EXAMPLE)).document
    parts = split_for_qr(doc, max_bytes=200)
    assert len(parts) == 3 and all(p.startswith(b"JAHISTC08,1\r\n") for p in parts)
    assert parts[0].endswith(b",3,1\r\n")
    return parts


def test_split_parts_joined_by_part_number_whatever_their_order():
    parts = _three_parts()
    reference = parse(cp932(SPEC_EXAMPLE)).document
    for order in ([2, 0, 1], [1, 2, 0], [2, 1, 0]):
        result = parse(b"".join(parts[i] for i in order))
        assert result.ok and result.document == reference
    assert parse_fragments([parts[2], parts[0], parts[1]]).document == reference


def test_split_parts_with_mismatched_ids_are_rejected():
    parts = _three_parts()
    data_id = parts[1].rsplit(b"911,", 1)[1][:14]
    parts[1] = parts[1].replace(data_id, b"99999999999999")
    result = parse(b"".join(parts))
    assert not result.ok
    assert {c for c, _l, _f in codes(result)} == {"split_mismatch"}


def test_a_missing_part_is_reported():
    parts = _three_parts()
    result = parse(parts[0] + parts[2])
    assert not result.ok and result.errors[0].params["value"] == "2"


def test_cp932_character_cut_between_two_qr_fragments():
    raw = cp932(SPEC_EXAMPLE)
    cut = raw.index("鈴木".encode("cp932")) + 1  # between the two bytes of 鈴
    first, second = raw[:cut], raw[cut:]
    with pytest.raises(UnicodeDecodeError):
        first.decode("cp932")  # decoding fragments one by one would break the name
    result = parse_fragments([first, second])
    assert result.ok and result.document.patient.name == "鈴木 太郎"


def test_fragments_in_wrong_order_are_reported():
    raw = cp932(SPEC_EXAMPLE)
    result = parse_fragments([raw[60:], raw[:60]])
    assert not result.ok and result.errors[0].code == "fragment_no_header"


def test_nested_records_all_round_trip():
    text = ("JAHISTC08,2\n1,高知 花子,2,H020401,7810000,高知県南国市,0888000000,夫,A,52.5,コウチ ハナコ\n"
            "2,1,卵アレルギー,2\n3,ロキソニンS,20240101,20240105,2,1,4987188161027\n"
            "31,1,ロキソプロフェンナトリウム水和物,1,,2\n4,旅行中,20240102,2\n"
            "701,南国 薬子,はりまや薬局,0888000001,20230101,,1\n601,家族用メモ,20240101\n"
            "5,20240105,1\n201,1,A錠,2,錠,4,2171022F1022,1,アムロジピン,,\n"
            "281,1,粉砕,1\n291,1,グレープフルーツ注意,1\n301,1,朝食後,14,日分,1,1,,1\n"
            "311,1,飲み忘れ時は次回から,1\n391,1,眠気に注意,1\n55,医師,外科,1\n"
            "201,2,B錠,1,錠,1,,1,,,\n401,運転注意,1\n411,退院時の情報,31,1\n601,飲めた,20240106\n")
    result = parse(cp932(text))
    assert result.ok, [str(d) for d in result.diagnostics]
    doc = result.document
    assert doc.otc_drugs[0].ingredients[0].name == "ロキソプロフェンナトリウム水和物"
    drug = doc.visits[0].rps_without_doctor[0].drugs[0]
    assert drug.supplements[0].text == "粉砕" and drug.cautions[0].text == "グレープフルーツ注意"
    assert doc.visits[0].doctors[0].rps[0].drugs[0].name == "B錠"
    assert doc.visits[0].institution_notes[0].kind == "31"
    assert doc.patient.birth_date == date(1990, 4, 1) and doc.patient.weight == "52.5"
    assert parse(write(doc)).document == doc


@pytest.mark.parametrize("text, codec, expected", [
    ("ﾆ夕", "cp932", "cp932"),          # C6 97 5B: also valid UTF-8 ('Ɨ['), which no document holds
    ("ﾃｽﾄ薬局", "cp932", "cp932"),
    ("ロキソニン錠60mg", "utf-8", "utf-8"),
    ("℃ ① ㈱ ×", "utf-8", "utf-8"),     # symbols CP932 can write: still an app's UTF-8
])
def test_encoding_detection_when_cp932_bytes_are_also_valid_utf8(text, codec, expected):
    from services.medication.jahis.text import detect_encoding
    assert detect_encoding(("JAHISTC08,1\n201,1," + text + ",1\n").encode(codec)) == expected
