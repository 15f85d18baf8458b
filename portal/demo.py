"""`madoguchi demo`: the three cities of the seed, synthetic residents and demo staff.

Development only: demo staff share one published password and their TOTP codes are shown
by `madoguchi staff code`, which exists only in development mode."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
from sqlalchemy import select

from portal.cli import Context, pass_ctx

DEMO_PASSWORD = "madoguchi-demo-2026"
DEMO_CONFIG = "demo.toml"  # written into the instance folder, read by `make run`
DEMO_PIN, DEMO_CARD_PASSWORD = "1234", "DEMO2026"

# 全国地方公共団体コード and 2015 census populations (国勢調査 平成27年).
DEMO_CITIES = (
    {"code": "392049", "name": "南国市", "name_en": "Nankoku", "population": 47982,
     "services": ["maternal_health", "medication", "convenience_issuance"]},
    {"code": "392111", "name": "香南市", "name_en": "Konan", "population": 32961,
     "services": ["maternal_health", "medication"]},
    {"code": "392120", "name": "香美市", "name_en": "Kami", "population": 27513,
     "services": ["medication", "convenience_issuance"]},
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
    instance = Path(app.instance_path)
    if not (instance / DEMO_CONFIG).exists():
        cards = build_demo_cards(ctx.db, instance)
        write_demo_config(instance)
        click.echo("テスト用PKIとデモ用カードを作りました / test PKI and demo cards: "
                   + ", ".join(str(c) for c in cards))
    print_sign_ins()


def build_demo(database, residents: int, seed: int) -> bool:
    from portal.registry.synthetic import populate
    from portal.staff.services import create_staff
    from portal.tenancy.models import Municipality
    from portal.tenancy.services import add_municipality
    with database.transaction() as s:
        if s.scalar(select(Municipality).where(Municipality.code == DEMO_CITIES[0]["code"])):
            return False
        cities = [add_municipality(s, c["code"], c["name"], name_en=c["name_en"],
                                   prefecture="高知県", population=c["population"],
                                   settings={"services": c["services"]}) for c in DEMO_CITIES]
    for index, city in enumerate(cities):
        populate(database, city, residents, seed=seed + index)
        with database.transaction(city.id) as s:
            for username, name, roles in DEMO_STAFF:
                create_staff(s, city.id, username, name, DEMO_PASSWORD, roles)
            if index == 0:  # the secretariat city runs the joint cloud
                create_staff(s, city.id, "operator", "運用 共同", DEMO_PASSWORD, ["cloud_operator"])
    return True


def print_sign_ins() -> None:
    click.echo("")
    click.echo("デモ用の職員アカウント / demo staff sign-ins (password: %s)" % DEMO_PASSWORD)
    for city in DEMO_CITIES:
        users = ", ".join(u for u, _, _ in DEMO_STAFF)
        extra = ", operator" if city is DEMO_CITIES[0] else ""
        click.echo(f"  {city['code']} {city['name']}: {users}{extra}")
    click.echo("  確認コード / TOTP: madoguchi staff code --municipality 392049 admin")
    click.echo("住民としてのデモ: トップページの「デモ用ログイン」/ residents: 'demo sign-in' on the home page")
    click.echo(f"デモ用カード / demo cards: instance/cards/<団体コード>.json  暗証番号 PIN {DEMO_PIN}, "
               f"署名用パスワード {DEMO_CARD_PASSWORD}")


def build_demo_cards(database, instance: Path) -> list[Path]:
    """A test PKI and one card per city for an adult demo resident. The 南国市 card is
    bound already (sign in at once); the others enroll on first use."""
    from cryptography import x509
    from portal.cards.services import bind
    from portal.cards.validation import ValidatedCertificate
    from portal.registry.models import Resident, ResidentStatus
    from portal.tenancy.models import Municipality
    from smartcard.testpki import TestPKI
    pki = TestPKI.create(instance / "pki")
    pki.write_crls()
    paths = []
    with database.transaction() as s:
        cities = s.scalars(select(Municipality).order_by(Municipality.code)).all()
    for index, city in enumerate(cities):
        with database.transaction(city.id) as s:
            person = s.scalar(select(Resident).where(
                Resident.status == ResidentStatus.ACTIVE, Resident.support_block.is_(False),
                Resident.birth_date < date(1995, 1, 1)).order_by(Resident.id))
            profile = pki.issue_card(
                name=person.name, birth_date=person.birth_date, address=person.address,
                sex=person.sex.value, pin=DEMO_PIN, password=DEMO_CARD_PASSWORD,
                path=instance / "cards" / f"{city.code}.json")
            paths.append(profile.path)
            if index == 0:
                cert = x509.load_der_x509_certificate(profile.auth.certificate)
                bind(s, ValidatedCertificate(cert, pki.ca("auth", 2).certificate), city.id,
                     resident_id=person.id)
    return paths


def write_demo_config(instance: Path) -> None:
    pki = instance / "pki"
    config = {
        "card_trust_anchors": [str(pki / f"auth-ca-g{g}.pem") for g in (1, 2)],
        "card_signing_trust_anchors": [str(pki / f"signing-ca-g{g}.pem") for g in (1, 2)],
        "card_crls": sorted(str(p) for p in (pki / "crl").glob("*.crl")),
        "kiosks": {"demo-kiosk": {"municipality": "392049", "name": "南国市 中央公民館"}},
    }
    lines = [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in config.items()
             if key != "kiosks"]
    lines.append('[kiosks.demo-kiosk]\nmunicipality = "392049"\nname = "南国市 中央公民館"')
    (instance / DEMO_CONFIG).write_text("\n".join(lines) + "\n", encoding="utf-8")
