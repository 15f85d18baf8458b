"""`madoguchi demo`: the three cities of the seed, synthetic residents and demo staff.

Development only: demo staff share one published password and their TOTP codes are shown
by `madoguchi staff code`, which exists only in development mode."""
from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path

import click
from sqlalchemy import select

from portal.cli import Context, pass_ctx

DEMO_PASSWORD = "madoguchi-demo-2026"
DEMO_CONFIG = "demo.toml"  # written into the instance folder, read by `make run`
DEMO_PIN, DEMO_CARD_PASSWORD = "1234", "DEMO2026"
# The demo kiosk has its own card bridge, in kiosk mode (PIN pad, card events), beside the
# home one (35980): scripts/run-demo.sh starts both.
KIOSK_BRIDGE = "http://127.0.0.1:35981"

# 全国地方公共団体コード and 2015 census populations (国勢調査 平成27年). `locality`: the
# prefecture and city a JPKI certificate names (signing subject L=, L=; the CRL partition of
# its distribution point), written as J-LIS writes them.
DEMO_CITIES = (
    {"code": "392049", "name": "南国市", "name_en": "Nankoku", "population": 47982,
     "services": ["maternal_health", "medication", "convenience_issuance"],
     "locality": ("Kochi-ken", "Nankoku-shi")},
    {"code": "392111", "name": "香南市", "name_en": "Konan", "population": 32961,
     "services": ["maternal_health", "medication"], "locality": ("Kochi-ken", "Konan-shi")},
    {"code": "392120", "name": "香美市", "name_en": "Kami", "population": 27513,
     "services": ["medication", "convenience_issuance"], "locality": ("Kochi-ken", "Kami-shi")},
)

DEMO_STAFF = (
    ("admin", "管理者 太郎", ["administrator"]),
    ("clerk", "住記 花子", ["registry_clerk"]),
    ("nurse", "保健 さくら", ["health_staff"]),
    ("issuer", "交付 次郎", ["issuance_operator"]),
)


@click.command("demo", help="デモ環境を作ります（開発モード）/ build the demo cities (development).")
@click.option("--residents", default=300, show_default=True, help="団体ごとの住民数")
@click.option("--seed", default=2017, show_default=True)
@pass_ctx
def demo(ctx: Context, residents: int, seed: int) -> None:
    app = ctx.app
    if app.config["ENV"] != "development":
        raise click.ClickException("デモは開発モード専用です / demo is for development mode only")
    from portal.migrate import upgrade
    upgrade(app.config["DATABASE_URL"], app.extensions["madoguchi.services"])
    created = build_demo(ctx.db, residents, seed)
    if not created:
        click.echo("デモ環境は作成済みです / demo already present")
        from portal import demo_family
        demo_family.add_drug_master(ctx.db)  # a demo built before the master existed gains it
    instance = Path(app.instance_path)
    if not (instance / DEMO_CONFIG).exists():
        cards = build_demo_cards(ctx.db, instance)
        register_partner(ctx.db, instance)
        write_demo_config(instance)
        click.echo("テスト用PKIとデモ用カードを作りました / test PKI and demo cards: "
                   + ", ".join(str(c) for c in cards))
    print_sign_ins()


def build_demo(database, residents: int, seed: int) -> bool:
    from portal import demo_family
    from portal.registry.synthetic import populate
    from portal.staff.services import create_staff, hash_password
    from portal.tenancy.models import Municipality
    from portal.tenancy.services import add_municipality
    shared = hash_password(DEMO_PASSWORD)  # one hash for every demo account: Argon2 is slow
    with database.transaction() as s:
        if s.scalar(select(Municipality).where(Municipality.code == DEMO_CITIES[0]["code"])):
            return False
        cities = [add_municipality(s, c["code"], c["name"], name_en=c["name_en"],
                                   prefecture="高知県", population=c["population"],
                                   settings={"services": c["services"]}) for c in DEMO_CITIES]
    for index, city in enumerate(cities):
        if index == 0:  # the card family first: it heads the demo sign-in lists
            demo_family.add_family(database, city)
        populate(database, city, residents, seed=seed + index)
        with database.transaction(city.id) as s:
            for username, name, roles in DEMO_STAFF:
                create_staff(s, city.id, username, name, DEMO_PASSWORD, roles,
                             password_hash=shared)
            if index == 0:  # the secretariat city runs the joint cloud
                create_staff(s, city.id, "operator", "運用 共同", DEMO_PASSWORD, ["cloud_operator"],
                             password_hash=shared)
    demo_family.add_handbook(database, cities[0])
    demo_family.add_drug_master(database)
    demo_family.add_notebook(database, cities[0])
    demo_family.add_certificates(database, cities[0])
    build_operator(database, cities)
    return True


def build_operator(database, cities) -> None:
    """Half a year of usage per city, the worked example's cost lines and basis, and this
    fiscal year's line (with a usage share) on a basis fixed from that usage: the operator's
    pages and the apportionment report have something to show."""
    from portal.clock import today_jst
    from portal.jointcloud import example
    from portal.jointcloud.models import ApportionmentBasis, CostLine
    from portal.metering.services import record_usage, usage_for_fiscal_year
    today = today_jst()
    for index, city in enumerate(cities):
        with database.transaction(city.id) as s:
            for back in range(6):
                when = datetime.combine(month_start(today, -back).replace(day=10), time(3, 0))
                scale = city.population // 1000
                record_usage(s, "core", "sign_in", scale * 9 + back, when)
                for service in city.settings["services"]:
                    metric = ("certificate_issued:juminhyo" if service == "convenience_issuance"
                              else "record_written")
                    record_usage(s, service, metric, scale * (3 + index) + back, when)
    year = today.year if today.month >= 4 else today.year - 1
    with database.transaction() as s:
        example.load(s)
        usage = usage_for_fiscal_year(s, year)
        s.add(CostLine(fiscal_year=year, category="operation", label="窓口ポータル運用・保守",
                       amount_yen=18_600_000, weight_equal=20, weight_population=50,
                       weight_usage=30, usage_metric="*", created_by="demo",
                       note="デモ用の金額（利用割は今年度の利用記録から）"))
        for city in cities:
            s.add(ApportionmentBasis(fiscal_year=year, city_code=city.code, city_name=city.name,
                                     population=city.population, usage=usage.get(city.id, {}),
                                     source="団体設定の人口・利用記録（デモで確定）"))


def month_start(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def print_sign_ins() -> None:
    click.echo("")
    click.echo("デモ用の職員アカウント / demo staff sign-ins (password: %s)" % DEMO_PASSWORD)
    for city in DEMO_CITIES:
        users = ", ".join(u for u, _, _ in DEMO_STAFF)
        extra = ", operator" if city is DEMO_CITIES[0] else ""
        click.echo(f"  {city['code']} {city['name']}: {users}{extra}")
    click.echo("  確認コード / TOTP: MADOGUCHI_ENV=development madoguchi staff code --municipality 392049 nurse")
    click.echo(f"デモ用カード / demo cards: instance/cards/<団体コード>.json  暗証番号 PIN {DEMO_PIN}, "
               f"署名用パスワード {DEMO_CARD_PASSWORD}")
    click.echo("")
    for japanese, english in WHAT_TO_TRY:
        click.echo(f"  ・{japanese}")
        click.echo(f"    {english}")


WHAT_TO_TRY = (
    ("試してみること（カードの坂本 美咲さん: 3人の子の母で妊娠中）",
     "What to try (the card belongs to Misaki Sakamoto, mother of three, pregnant)"),
    ("トップページ「マイナンバーカードでログイン」→ 暗証番号 1234",
     "Home page, 'Sign in with My Number card' → PIN 1234"),
    ("母子健康手帳 /services/maternal_health/: 妊娠の経過、3人の健診・成長曲線・予防接種（接種時期・期限超過・対象外）",
     "Handbook: pregnancy timeline; three children's checkups, growth charts, vaccines due, overdue, no longer eligible"),
    ("お薬手帳 /services/medication/: 2つの薬局のアセトアミノフェン（成分の重複の注意）",
     "Medication notebook: acetaminophen from two pharmacies (same-ingredient alert)"),
    ("お薬手帳の重複投薬の確認: ガスター散をレセ電コードとYJコードで（薬品マスタで同一成分と判定）",
     "Duplicate check: famotidine under a receipt code and a YJ code (matched through the drug code master)"),
    ("コンビニ交付 /services/convenience_issuance/: 交付済みの住民票と印鑑登録証明書、確認コードで真正性を照会",
     "Certificates issued at a store; check one by its verification code"),
    ("やりとり履歴 /me/access-log/: 保健師がお子さんの記録を更新したことも見えます",
     "Activity log: also shows the nurse writing the children's records"),
    ("保健師 /staff/login（392049, nurse）: 未接種者・未受診者の一覧と勧奨通知用CSV",
     "Nurse (392049, nurse): the worklist of overdue children and its CSV for reminder letters"),
    ("運用者 /staff/login（392049, operator）→ /operator/: 利用状況、費目と按分報告（PDF）",
     "Operator (392049, operator) → /operator/: usage, cost lines, apportionment report (PDF)"),
    ("キオスク /kiosk/demo-kiosk（シークレットウィンドウで）: カードを抜くと画面が消えます（echo remove > instance/card-control）",
     "Kiosk /kiosk/demo-kiosk (in a private window): pull the card and the screen is wiped (echo remove > instance/card-control)"),
    ("連携サービス（OpenID Connect）: instance/oidc-demo-client.json の authorize_url を開く",
     "Partner sign-in (OpenID Connect): open authorize_url from instance/oidc-demo-client.json"),
)


def build_demo_cards(database, instance: Path) -> list[Path]:
    """A test PKI and the demo cards: the two 南国市 parents of the demo family (bound
    already: sign in at once) and one adult per other city (they enroll on first use)."""
    from portal import demo_family
    from portal.registry.models import Resident, ResidentStatus
    from portal.tenancy.models import Municipality
    from madoguchi_smartcard.testpki import TestPKI
    pki = TestPKI.create(instance / "pki")
    locality = {c["code"]: c["locality"] for c in DEMO_CITIES}
    paths = []
    with database.transaction() as s:
        cities = s.scalars(select(Municipality).order_by(Municipality.code)).all()
    for index, city in enumerate(cities):
        with database.transaction(city.id) as s:
            if index == 0:
                holders = demo_family.card_holders(s)
            else:
                holders = [s.scalar(select(Resident).where(
                    Resident.status == ResidentStatus.ACTIVE, Resident.support_block.is_(False),
                    Resident.birth_date < date(1995, 1, 1)).order_by(Resident.id))]
            for number, person in enumerate(holders, start=1):
                name = f"{city.code}.json" if number == 1 else f"{city.code}-{number}.json"
                profile = pki.issue_card(
                    name=person.name, birth_date=person.birth_date, address=person.address,
                    sex=person.sex.value, pin=DEMO_PIN, password=DEMO_CARD_PASSWORD,
                    partition=locality[city.code], path=instance / "cards" / name)
                paths.append(profile.path)
                if index == 0:
                    _bind(s, pki, profile, city, person)
    pki.write_crls()  # after the cards: one CRL partition per city that issued one
    return paths


def _bind(s, pki, profile, city, person) -> None:
    from cryptography import x509
    from portal.cards.services import bind
    from portal.cards.validation import ValidatedCertificate
    cert = x509.load_der_x509_certificate(profile.auth.certificate)
    bind(s, ValidatedCertificate(cert, pki.ca("auth", 2).certificate), city.id,
         resident_id=person.id)


PARTNER_FILE = "oidc-demo-client.json"
PARTNER_REDIRECT = "http://127.0.0.1:8765/callback"
PARTNER_LOGGED_OUT = "http://127.0.0.1:8765/logged-out"


def register_partner(database, instance: Path, origin: str = "http://127.0.0.1:5000") -> Path:
    """A partner service of 南国市 (an OIDC client) and a ready authorization request with
    PKCE; the secret exists only in the instance folder (never in the repository)."""
    import base64
    import hashlib
    import secrets
    from urllib.parse import urlencode
    from portal.oidc.services import register_client
    from portal.tenancy.services import by_code
    with database.transaction() as s:
        city = by_code(s, DEMO_CITIES[0]["code"])
    with database.transaction(city.id) as s:
        new = register_client(s, city.id, "なんこく子育て応援アプリ（デモ）", [PARTNER_REDIRECT],
                              post_logout_redirect_uris=[PARTNER_LOGGED_OUT])
        client_id = new.client.client_id
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode({"response_type": "code", "client_id": client_id,
                       "redirect_uri": PARTNER_REDIRECT, "scope": "openid profile birthdate",
                       "state": secrets.token_urlsafe(12), "nonce": secrets.token_urlsafe(12),
                       "code_challenge": challenge, "code_challenge_method": "S256"})
    path = instance / PARTNER_FILE
    path.write_text(json.dumps({
        "client_id": client_id, "client_secret": new.secret, "redirect_uri": PARTNER_REDIRECT,
        "code_verifier": verifier, "authorize_url": f"{origin}/oidc/authorize?{query}",
        "token_url": f"{origin}/oidc/token",
        "post_logout_redirect_uri": PARTNER_LOGGED_OUT,
        "logout_url": f"{origin}/oidc/logout?" + urlencode({
            "client_id": client_id, "post_logout_redirect_uri": PARTNER_LOGGED_OUT})},
        ensure_ascii=False, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path


def write_demo_config(instance: Path) -> None:
    pki = instance / "pki"
    config = {
        "card_trust_anchors": [str(pki / f"auth-ca-g{g}.pem") for g in (1, 2)],
        "card_signing_trust_anchors": [str(pki / f"signing-ca-g{g}.pem") for g in (1, 2)],
        "card_crls": sorted(str(p) for p in (pki / "crl").glob("*.crl")),
    }
    lines = [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in config.items()]
    lines.append(f'[kiosks.demo-kiosk]\nmunicipality = "392049"\nname = "南国市 中央公民館"\n'
                 f'bridge = "{KIOSK_BRIDGE}"')
    (instance / DEMO_CONFIG).write_text("\n".join(lines) + "\n", encoding="utf-8")
