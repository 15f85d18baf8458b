"""The operator console: member cities, settings with history, configuration files, usage
and the apportionment report — and never a resident's record."""
from __future__ import annotations

import io
import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.audit.models import AccessLogEntry
from portal.db import across_municipalities
from portal.jointcloud import config, example
from portal.jointcloud.models import ConfigChange, CostLine
from portal.metering.services import record_usage
from portal.tenancy.models import Municipality
from tests.pdfwords import fonts_not_embedded

EXAMPLES = Path(__file__).parents[2] / "portal/jointcloud/examples"
MARKERS = ("秘匿", "ヒトク", "隠岐谷", "機密町")


@pytest.fixture
def console(app, client, sign_in_as, operator):
    app.config["WTF_CSRF_ENABLED"] = False
    return sign_in_as(operator)


def _history(db, code):
    with db.transaction() as s:
        mid = s.scalar(select(Municipality.id).where(Municipality.code == code))
        return s.scalars(across_municipalities(select(ConfigChange).where(
            ConfigChange.municipality_id == mid).order_by(ConfigChange.id))).all()


def test_operator_lists_member_cities(console, make_city):
    make_city("392111", "香南市", population=32_961)
    body = console.get("/operator/").get_data(as_text=True)
    assert "南国市" in body and "香南市" in body and "32,961" in body


def test_editing_settings_records_who_and_what(console, db):
    form = {"name": "南国市", "population": "47982", "services": ["medication"],
            "hours_counter": "08:30-17:15", "primary_colour": "#1b5e20",
            "display_name": "南国市 健康ポータル", "seal_image": "seals/392049.png",
            "catalogue": "juminhyo,住民票の写し,300\ninkan,印鑑登録証明書,350",
            "note": "料金改定"}
    response = console.post("/operator/cities/392049/settings", data=form)
    assert response.status_code == 302
    [entry] = _history(db, "392049")
    assert entry.actor_name == "職員 cloud_op" and entry.source == "web"
    paths = {d["path"]: d for d in entry.diff}
    assert paths["settings.branding"]["after"]["primary_colour"] == "#1b5e20"
    assert paths["settings.services"]["after"] == ["medication"]
    page = console.get("/operator/cities/392049").get_data(as_text=True)
    assert "料金改定" in page and "settings.issuance" in page


def test_a_population_of_zero_saves_and_unshown_branding_is_kept(console, db):
    """0 is a population (a new city starts at 0), and branding keys a configuration file
    set but the form does not show survive a save from the form."""
    with db.transaction() as s:
        city = s.scalar(select(Municipality).where(Municipality.code == "392049"))
        city.settings = {**city.settings, "branding": {"tagline": "健康のまち"}}
    response = console.post("/operator/cities/392049/settings", data={
        "name": "南国市", "population": "0", "primary_colour": "#1b5e20"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with db.transaction() as s:
        city = s.scalar(select(Municipality).where(Municipality.code == "392049"))
        assert city.population == 0
        assert city.settings["branding"] == {"tagline": "健康のまち", "primary_colour": "#1b5e20"}


def test_bad_settings_get_japanese_errors_and_change_nothing(console, db):
    response = console.post("/operator/cities/392049/settings", data={
        "name": "南国市", "population": "-3", "primary_colour": "green",
        "catalogue": "juminhyo,住民票の写し,三百"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "人口は0以上の整数です" in body and "#1b5e20" in body
    assert _history(db, "392049") == []


def test_a_bad_logo_reference_is_reported_above_the_form(console, db):
    response = console.post("/operator/cities/392049/settings", data={
        "name": "南国市", "population": "47982", "logo": "../../etc/passwd.png"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    notices = " ".join(re.findall(r'<p class="flash error"[^>]*>(.*?)</p>', body))
    assert "logo" in notices and _history(db, "392049") == []


def test_catalogue_lines_that_do_not_parse_are_reported(console, db):
    response = console.post("/operator/cities/392049/settings", data={
        "name": "南国市", "population": "47982", "catalogue": "juminhyo,住民票の写し,三百"})
    assert response.status_code == 400
    assert "種類コード,名称,手数料" in response.get_data(as_text=True)
    assert _history(db, "392049") == []


def test_config_file_round_trip_through_download_and_upload(console, db):
    toml_text = console.get("/operator/cities/392049/config.toml").get_data(as_text=True)
    document = config.loads(toml_text)
    assert document["municipality"]["code"] == "392049"
    document["settings"]["hours"] = {"counter": "09:00-17:00"}
    upload = config.dumps(document, "json").encode()
    response = console.post("/operator/cities/392049/config/import", data={
        "file": (io.BytesIO(upload), "392049.json"), "note": "時間変更"},
        content_type="multipart/form-data")
    assert response.status_code == 302
    [entry] = _history(db, "392049")
    assert entry.source == "import" and entry.diff[0]["after"] == {"counter": "09:00-17:00"}


def test_upload_of_a_broken_file_is_refused_with_the_reason(console, db):
    response = console.post("/operator/cities/392049/config/import", data={
        "file": (io.BytesIO(b"format = 'madoguchi-city-config/1'\n[municipality\n"), "x.toml")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert "ファイルを読めません" in response.get_data(as_text=True)
    wrong_city = config.dumps({"format": config.FORMAT, "municipality": {"code": "392111"},
                               "settings": {}}).encode()
    response = console.post("/operator/cities/392049/config/import", data={
        "file": (io.BytesIO(wrong_city), "x.toml")}, content_type="multipart/form-data")
    assert response.status_code == 400 and "団体コードが違います" in response.get_data(as_text=True)
    assert _history(db, "392049") == []


def test_join_from_the_example_files(cli_runner, db):
    for code in ("392049", "392111", "392120"):
        result = cli_runner("join", EXAMPLES / f"{code}.toml")
        assert result.exit_code == 0, result.output
    again = cli_runner("join", EXAMPLES / "392049.toml")
    assert again.exit_code != 0 and "登録済み" in again.output
    with db.transaction() as s:
        kami = s.scalar(select(Municipality).where(Municipality.code == "392120"))
        assert kami.population == 27_513 and kami.settings["branding"]["primary_colour"] == "#4a148c"
    [entry] = _history(db, "392120")
    assert entry.source == "join"
    exported = cli_runner("config-export", "392120")
    assert config.loads(exported.output)["settings"] == kami.settings


def test_join_refuses_a_bad_code_and_unknown_service(cli_runner, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('format = "madoguchi-city-config/1"\n[municipality]\ncode = "392048"\n'
                   'name = "誤り市"\n[settings]\nservices = ["no_such_service"]\n')
    result = cli_runner("join", bad)
    assert result.exit_code != 0 and "no_such_service" in result.output


def test_usage_is_aggregated_per_city_service_and_month(console, db, make_city, make_resident):
    konan = make_city("392111", "香南市")
    make_resident(konan)
    with db.transaction(konan.id) as s:
        record_usage(s, "core", "sign_in", when=datetime(2025, 4, 3))
        record_usage(s, "core", "sign_in", when=datetime(2025, 4, 20))
        record_usage(s, "convenience_issuance", "certificate_issued:juminhyo", 2,
                     when=datetime(2025, 5, 1))
    body = console.get("/operator/usage?from=2025-04&to=2025-05").get_data(as_text=True)
    assert "2025-04" in body and "証明書の交付（住民票の写し）" in body
    from portal.metering.services import monthly_usage, usage_for_fiscal_year
    with db.transaction() as s:
        rows = monthly_usage(s)
        assert (konan.id, "core", "sign_in", "2025-04", 2) in rows
        assert usage_for_fiscal_year(s, 2025)[konan.id] == {
            "core:sign_in": 2, "convenience_issuance:certificate_issued:juminhyo": 2}


def _usage_city(db, make_city, make_resident):
    konan = make_city("392111", "香南市")
    resident = make_resident(konan)
    with db.transaction(konan.id) as s:
        record_usage(s, "core", "sign_in", when=datetime(2025, 4, 3))
        record_usage(s, "convenience_issuance", "certificate_issued:inkan", when=datetime(2025, 4, 5))
        record_usage(s, "maternal_health", "record_written", when=datetime(2025, 4, 6))
        s.add(AccessLogEntry(actor_type="staff", actor_name="保健師", actor_role="health_staff",
                             subject_resident_id=resident.id, action="read",
                             resource="maternal_health.checkup", purpose="母子健康手帳の確認",
                             occurred_at=datetime(2025, 4, 6)))
    return konan


def _visible(html: str) -> str:
    """The page's own text (not the header naming the signed-in operator)."""
    main = re.search(r"<main\b.*?</main>", html, flags=re.S)[0]
    return re.sub(r"<[^>]+>", " ", main)


@pytest.mark.parametrize("lang, words", [
    ("ja", ["共通（ログイン・連携など）", "ログインの回数", "コンビニ交付", "証明書の交付（印鑑登録証明書）",
            "母子健康手帳", "記録の作成・訂正", "利用した住民の数"]),
    ("en", ["Shared (sign-in, connections and more)", "Sign-ins",
            "Certificates issued (Seal registration certificate)",
            "Records created or corrected", "Residents served"])])
def test_usage_names_services_and_metrics_in_words_not_codes(console, db, make_city,
                                                             make_resident, lang, words):
    """It showed `convenience_issuance`, `active_residents`, `core sign_in` and table names."""
    _usage_city(db, make_city, make_resident)
    assert console.get(f"/lang/{lang}?next=/").status_code == 302
    text = _visible(console.get("/operator/usage?from=2025-04&to=2025-04").get_data(as_text=True))
    for word in words:
        assert word in text, word
    # service, metric and table names are snake_case (or "core"); words never are
    codes = re.findall(r"\b(?:[a-z]+_[a-z_:]+|core)\b", text)
    assert codes == [], codes


def test_storage_lists_rows_per_service_beside_a_city_name_kept_whole(console, db, make_city,
                                                                      make_resident):
    """The table-by-table list squeezed the city column to one character a line: the list
    is per service now, each entry unbroken, and a city cell never wraps (portal.css)."""
    _usage_city(db, make_city, make_resident)
    page = console.get("/operator/usage").get_data(as_text=True)
    storage = page[page.index('<table class="table storage">'):]
    assert re.search(r'<th scope="row" class="city">香南市</th>', storage)
    assert re.search(r'<ul class="by-service"><li>[^<:]+: \d', storage)
    css = (Path(__file__).parents[2] / "portal/static/css/portal.css").read_text(encoding="utf-8")
    rules = dict(re.findall(r"([^{}]+)\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.S)))
    nowrap = [sel.strip() for sel, body in rules.items() if "white-space: nowrap" in body]
    assert any(".table .city" in sel for sel in nowrap), nowrap
    assert any("ul.by-service li" in sel for sel in nowrap), nowrap


def test_apportionment_pdf_embeds_every_font(console, db, tmp_path):
    """It referenced Helvetica, never embedded (the canvas' starting font)."""
    with db.transaction() as s:
        example.load(s)
    path = tmp_path / "report.pdf"
    path.write_bytes(console.get("/operator/apportionment.pdf").data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout
    assert "IPAexGothic" in fonts
    assert fonts_not_embedded(path) == []


def test_report_command_without_the_font_says_so_in_one_line(cli_runner, db, monkeypatch,
                                                             tmp_path):
    from reportlab.pdfbase import pdfmetrics

    from portal import fonts
    with db.transaction() as s:
        example.load(s)
    monkeypatch.setattr(fonts, "FONT_FILES", {k: ("/nonexistent/font.ttf",) for k in fonts.FONT_FILES})
    monkeypatch.setattr(pdfmetrics, "getRegisteredFontNames", lambda: [])
    result = cli_runner("report", "--format", "pdf", "--output", tmp_path / "r.pdf")
    assert result.exit_code == 1 and "fonts-ipaexfont" in result.output
    assert "Traceback" not in result.output


def test_apportionment_page_csv_pdf_svg(console, db):
    with db.transaction() as s:
        example.load(s)
    page = console.get("/operator/apportionment").get_data(as_text=True)
    assert "18,522" in page and "8,440" in page and "19,528" in page and "36,198" in page
    assert console.get("/operator/apportionment.svg").mimetype == "image/svg+xml"
    assert console.get("/operator/apportionment.csv").get_data(as_text=True).count("\n") >= 8
    assert console.get("/operator/apportionment.pdf").data.startswith(b"%PDF")


def test_cost_line_and_basis_forms(console, db, make_city):
    make_city("392111", "香南市", population=32_961)
    bad = console.post("/operator/apportionment/lines", data={
        "line-fiscal_year": "2025", "line-category": "build", "line-label": "x",
        "line-amount_yen": "1000", "line-weight_equal": "0", "line-weight_population": "0",
        "line-weight_usage": "0"})
    assert bad.status_code == 400 and "重みの合計が0です" in bad.get_data(as_text=True)
    ok = console.post("/operator/apportionment/lines", data={
        "line-fiscal_year": "2025", "line-category": "shared_change", "line-label": "法改正対応",
        "line-amount_yen": "1000001", "line-weight_equal": "1", "line-weight_population": "0",
        "line-weight_usage": "0", "line-usage_metric": "*"})
    assert ok.status_code == 302
    missing = console.get("/operator/apportionment").get_data(as_text=True)
    assert "2025年度の按分基礎" in missing
    assert console.post("/operator/apportionment/basis", data={"basis-fiscal_year": "2025"}
                        ).status_code == 302
    page = console.get("/operator/apportionment").get_data(as_text=True)
    assert "500,001" in page and "500,000" in page  # the odd yen goes to the lower code
    with db.transaction() as s:
        assert s.scalar(select(CostLine.created_by)) == "職員 cloud_op"


def test_the_operator_reaches_no_resident_record_through_any_route(
        app, console, sign_in_as, operator, make_city, make_resident):
    """Walk every route of the app as the operator, with ids of residents of the operator's
    own city and of another; personal pages refuse, the console answers."""
    own = make_resident(_city(app, "392049"),
                        family="秘匿", given="隠岐谷", family_kana="ヒトク", address="南国市機密町1")
    other_city = make_city("392111", "香南市")
    other = make_resident(other_city, family="秘匿", given="太郎", family_kana="ヒトク",
                          address="香南市機密町2")
    reached = set()
    for subject in (own, other):
        ids = {"resident_id": subject.id, "household_id": subject.household_id,
               "child_id": subject.id, "code": "392111", "fmt": "toml"}
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            values = {a: ids.get(a, subject.id if a.endswith("id") else ids["code"])
                      for a in rule.arguments}
            path = rule.build(values, append_unknown=False)[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                sign_in_as(operator)  # a sign-out route on the walk must not end the walk
                response = console.open(path, method=method, data=ids)
                body = response.get_data().decode("utf-8", "replace")  # PDFs are binary
                assert not [m for m in MARKERS if m in body], f"{method} {path} leaks"
                assert response.status_code != 500, f"{method} {path}"
                if response.status_code == 200 and not rule.endpoint.startswith(
                        ("operator.", "public.", "staff.")) and "sign_out" not in rule.endpoint:
                    reached.add(rule.endpoint)
    # Outside the console, only pages that show nothing personal answer 200.
    assert not {e for e in reached if e.startswith(("registry.", "audit.", "residents."))}
    for path in ("/operator/", "/operator/usage", "/operator/cities/392111",
                 "/operator/apportionment", "/operator/cities/392111/settings"):
        assert console.get(path).status_code == 200, path


def _city(app, code):
    with app.extensions["madoguchi.db"].transaction() as s:
        return s.scalar(select(Municipality).where(Municipality.code == code))


def test_other_staff_roles_cannot_open_the_console(client, sign_in_as, make_city, make_staff):
    city = make_city("392049", "南国市")
    admin = make_staff(city, roles=["administrator"], username="admin")
    sign_in_as(admin)
    for path in ("/operator/", "/operator/usage", "/operator/apportionment",
                 "/operator/cities/392049/config.toml"):
        assert client.get(path).status_code == 403, path


def test_every_metric_the_code_records_has_words(app):
    """Metrics named in record_usage calls (and the computed ones) never fall back to
    their code on the usage page."""
    from portal.operator.views_usage import metric_label
    from services.convenience_issuance.services import CertificateType
    root = Path(__file__).parents[2]
    calls = set()
    for path in [*root.glob("portal/**/*.py"), *root.glob("services/**/*.py")]:
        for service, metric in re.findall(r'record_usage\([^,]+, "(\w+)", "(\w+)"',
                                          path.read_text(encoding="utf-8")):
            calls.add((service, metric))
    assert ("core", "sign_in") in calls and ("maternal_health", "record_written") in calls
    calls |= {("convenience_issuance", f"certificate_issued:{t.value}") for t in CertificateType}
    calls |= {("medication", "active_residents"), ("core", "storage_rows")}
    with app.test_request_context():
        fallbacks = [(s, m) for s, m in calls if "その他" in metric_label(s, m)]
    assert fallbacks == []


def test_the_apportionment_formula_and_reductions_read_in_english(console, db):
    """It showed 均等割30%・人口割70% and △ on the English page."""
    with db.transaction() as s:
        example.load(s)
    assert console.get("/lang/en?next=/").status_code == 302
    text = _visible(console.get("/operator/apportionment").get_data(as_text=True))
    assert "equal share 30% · by population 70%" in text
    assert "均等割" not in text and "△" not in text and "−16,670" in text
    assert console.get("/lang/ja?next=/").status_code == 302
    japanese = _visible(console.get("/operator/apportionment").get_data(as_text=True))
    assert "均等割30%・人口割70%" in japanese and "△16,670" in japanese
