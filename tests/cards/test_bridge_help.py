"""The card bridge's help page: what the sign-in page shows when no (recent enough) bridge
answers.  Plain Japanese, the packages of CARD_BRIDGE_DOWNLOADS with their SHA-256, the
version expected; downloads only of the files it lists."""
from __future__ import annotations

import hashlib
import html

import pytest

PACKAGE = b"!<arch>\ndebian-binary   a made-up package body\n"


@pytest.fixture
def downloads(tmp_path):
    folder = tmp_path / "bridge-packages"
    folder.mkdir()
    (folder / "madoguchi-bridge_1.2.0-1_all.deb").write_bytes(PACKAGE)
    (folder / "madoguchi-bridge-1.2.0.msi").write_bytes(b"a made-up installer")
    (folder / "notes.txt").write_text("not a package", encoding="utf-8")
    return folder


@pytest.fixture
def app_config(app_config, downloads):
    return {**app_config, "CARD_BRIDGE_DOWNLOADS": str(downloads), "CARD_BRIDGE_MIN_VERSION": "1.2.0"}


def test_help_page_offers_the_packages_with_their_checksums(client):
    page = client.get("/auth/card-bridge/")
    text = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 200
    assert "カード用アプリ（マイナンバーカード連携アプリ）をインストールしてください" in text
    assert "1.2.0 以降" in text
    assert "madoguchi-bridge_1.2.0-1_all.deb" in text and "Debian・Ubuntu" in text
    assert hashlib.sha256(PACKAGE).hexdigest() in text
    assert "notes.txt" not in text
    assert "マイナンバー（個人番号）は読み取りません" in text
    assert "madoguchi-bridge add-origin https://localhost" in text


def test_a_listed_package_downloads_and_nothing_else(client, downloads):
    answer = client.get("/auth/card-bridge/download/madoguchi-bridge_1.2.0-1_all.deb")
    assert answer.status_code == 200 and answer.data == PACKAGE
    assert "attachment" in answer.headers["Content-Disposition"]
    for name in ("notes.txt", "..%2F..%2Fetc%2Fpasswd", "missing.deb"):
        assert client.get(f"/auth/card-bridge/download/{name}").status_code == 404


def test_an_old_bridge_is_told_to_update(client):
    text = html.unescape(client.get("/auth/card-bridge/?reason=outdated&found=1.0.3").get_data(as_text=True))
    assert "お使いのカード用アプリ（バージョン 1.0.3）は古いため" in text
    assert "バージョン 1.2.0 以降に更新してください" in text
    odd = client.get("/auth/card-bridge/?reason=outdated&found=<b>9</b>").get_data(as_text=True)
    assert "<b>9</b>" not in html.unescape(odd) and "お使いのカード用アプリは古いため" in odd


def test_without_packages_the_page_says_whom_to_ask(app, client):
    app.config["CARD_BRIDGE_DOWNLOADS"] = None
    text = client.get("/auth/card-bridge/").get_data(as_text=True)
    assert "インストール用のファイルを配布していません" in text and "窓口" in text


def test_the_package_for_the_browsers_system_comes_first(client):
    deb, msi = "madoguchi-bridge_1.2.0-1_all.deb", "madoguchi-bridge-1.2.0.msi"
    linux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
    windows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
    for agent, first, other in ((linux, deb, msi), (windows, msi, deb)):
        text = client.get("/auth/card-bridge/", headers={"User-Agent": agent}).get_data(as_text=True)
        assert text.count("お使いのパソコン向け") == 1
        marked = text.index('class="for-this-computer"')
        assert marked < text.index("お使いのパソコン向け") < text.index(first) < text.index(other)
