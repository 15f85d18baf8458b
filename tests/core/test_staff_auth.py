"""Staff sign in with a password and a TOTP code; repeated failures lock the account."""
import re
from datetime import datetime, timedelta, timezone

import pyotp
import pytest

from portal.staff.models import StaffAccount
from portal.staff.services import LockoutPolicy, SignInRefused, check_totp, hash_password
from tests.conftest import STAFF_PASSWORD


def csrf(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def password_step(client, code, username, password):
    return client.post("/staff/login", data={
        "csrf_token": csrf(client, "/staff/login"), "municipality_code": code,
        "username": username, "password": password})


def totp_step(client, code):
    return client.post("/staff/login/totp", data={
        "csrf_token": csrf(client, "/staff/login/totp"), "code": code})


def test_password_then_totp_signs_in(client, make_city, make_staff):
    city = make_city()
    account = make_staff(city, roles=["registry_clerk"], username="clerk")
    assert password_step(client, city.code, "clerk", STAFF_PASSWORD).headers["Location"] == "/staff/login/totp"
    response = totp_step(client, pyotp.TOTP(account.totp_secret).now())
    assert response.status_code == 302
    page = client.get("/staff/").get_data(as_text=True)
    assert "住民記録担当" in page


def test_password_alone_is_not_a_sign_in(client, make_city, make_staff):
    city = make_city()
    make_staff(city, username="clerk")
    password_step(client, city.code, "clerk", STAFF_PASSWORD)
    assert client.get("/staff/").status_code == 302


def test_wrong_password_names_no_detail(client, make_city, make_staff):
    city = make_city()
    make_staff(city, username="clerk")
    page = password_step(client, city.code, "clerk", "wrong password!!").get_data(as_text=True)
    assert "利用者名またはパスワードが違います" in page
    page = password_step(client, city.code, "nobody", "wrong password!!").get_data(as_text=True)
    assert "利用者名またはパスワードが違います" in page


def test_same_username_in_another_city_does_not_sign_in(client, make_city, make_staff):
    nankoku, konan = make_city("392049", "南国市"), make_city("392111", "香南市")
    make_staff(nankoku, username="clerk")
    response = password_step(client, konan.code, "clerk", STAFF_PASSWORD)
    assert response.status_code == 200  # form again, no TOTP step
    assert "利用者名またはパスワードが違います" in response.get_data(as_text=True)


def test_lockout_after_five_failures_even_with_the_right_password(client, db, make_city, make_staff):
    city = make_city()
    make_staff(city, username="clerk")
    for _ in range(5):
        password_step(client, city.code, "clerk", "wrong password!!")
    response = password_step(client, city.code, "clerk", STAFF_PASSWORD)
    assert response.status_code == 200                      # no TOTP step
    assert "利用者名またはパスワードが違います" in response.get_data(as_text=True)
    with db.transaction(city.id) as s:
        account = s.query(StaffAccount).filter_by(username="clerk").one()
        assert account.locked_until > datetime.now(timezone.utc).replace(tzinfo=None)


def test_lockout_ends_after_its_time(client, db, make_city, make_staff):
    city = make_city()
    make_staff(city, username="clerk")
    with db.transaction(city.id) as s:
        account = s.query(StaffAccount).filter_by(username="clerk").one()
        account.locked_until = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=1)
    response = password_step(client, city.code, "clerk", STAFF_PASSWORD)
    assert response.headers["Location"] == "/staff/login/totp"


def test_wrong_totp_codes_lock_too(client, make_city, make_staff):
    city = make_city()
    make_staff(city, username="clerk")
    password_step(client, city.code, "clerk", STAFF_PASSWORD)
    for _ in range(4):
        assert "確認コードが違います" in totp_step(client, "000000").get_data(as_text=True)
    page = totp_step(client, "000000").get_data(as_text=True)
    assert "ロック" in page


def test_totp_code_cannot_be_replayed():
    account = StaffAccount(username="a", display_name="a", password_hash="x",
                           totp_secret=pyotp.random_base32(), roles_text="", failed_logins=0)
    now = datetime(2026, 11, 28, 10, 0, 0)
    code = pyotp.TOTP(account.totp_secret).at(now.replace(tzinfo=timezone.utc))
    check_totp(account, code, LockoutPolicy(), now=now)
    with pytest.raises(SignInRefused, match="使用済み"):     # not "wrong": it was right once
        check_totp(account, code, LockoutPolicy(), now=now + timedelta(seconds=5))
    with pytest.raises(SignInRefused, match="確認コードが違います"):
        check_totp(account, "000000" if code != "000000" else "111111", LockoutPolicy(),
                   now=now + timedelta(seconds=5))


def test_login_fields_have_no_none_attributes(client):
    page = client.get("/staff/login").get_data(as_text=True)
    assert 'inputmode="numeric"' in page and '="None"' not in page


def test_totp_allows_one_step_of_clock_drift():
    account = StaffAccount(username="a", display_name="a", password_hash="x",
                           totp_secret=pyotp.random_base32(), roles_text="", failed_logins=0)
    now = datetime(2026, 11, 28, 10, 0, 0)
    earlier = pyotp.TOTP(account.totp_secret).at(now.replace(tzinfo=timezone.utc) - timedelta(seconds=30))
    check_totp(account, earlier, LockoutPolicy(), now=now)
    far = pyotp.TOTP(account.totp_secret).at(now.replace(tzinfo=timezone.utc) - timedelta(seconds=120))
    with pytest.raises(SignInRefused):
        check_totp(account, far, LockoutPolicy(), now=now)


def test_passwords_are_argon2id_and_long():
    assert hash_password("a long enough passphrase").startswith("$argon2id$")
    with pytest.raises(ValueError):
        hash_password("short")


# --- no enumeration, rate limits, the owner told ------------------------------------------

def flashed(response) -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>\s*([^<]+?)\s*<', response.get_data(as_text=True))


def test_unknown_wrong_and_locked_read_the_same(client, db, make_city, make_staff):
    city = make_city()
    make_staff(city, username="clerk")
    unknown = flashed(password_step(client, city.code, "nobody", STAFF_PASSWORD))
    wrong = flashed(password_step(client, city.code, "clerk", "wrong password!!"))
    for _ in range(4):
        locking = flashed(password_step(client, city.code, "clerk", "wrong password!!"))
    locked = flashed(password_step(client, city.code, "clerk", STAFF_PASSWORD))
    assert unknown == wrong == locking == locked == ["利用者名またはパスワードが違います。"]
    with db.transaction(city.id) as s:
        assert s.query(StaffAccount).filter_by(username="clerk").one().locked_until is not None


def test_forty_names_from_one_address_meet_a_429(client, make_city, make_staff):
    city = make_city()
    make_staff(city, username="clerk")
    codes = [password_step(client, city.code, f"user{n}", "spray password 1").status_code
             for n in range(40)]
    assert 429 in codes and codes[-1] == 429
    assert codes.index(429) <= 10                   # STAFF_LOGIN_RATE_LIMIT: 10/minute
    assert "操作が多すぎます" in password_step(client, city.code, "clerk", STAFF_PASSWORD).get_data(as_text=True)


def test_one_account_is_limited_from_many_addresses(app, client, make_city, make_staff):
    city = make_city()
    make_staff(city, username="clerk")
    codes = [client.post("/staff/login", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}, data={
        "csrf_token": csrf(client, "/staff/login"), "municipality_code": city.code,
        "username": "clerk", "password": "wrong password!!"}).status_code for n in range(12)]
    assert codes[:10] == [200] * 10 and codes[10:] == [429] * 2  # 10/minute per account


def test_one_city_is_limited_from_many_addresses(app, client, make_city):
    app.config["STAFF_LOGIN_CITY_RATE_LIMIT"] = "3/minute"
    city = make_city()
    codes = [client.post("/staff/login", environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}, data={
        "csrf_token": csrf(client, "/staff/login"), "municipality_code": city.code,
        "username": f"user{n}", "password": "wrong password!!"}).status_code for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_the_owner_is_told_of_a_lockout_at_the_next_sign_in(client, db, make_city, make_staff):
    city = make_city()
    account = make_staff(city, username="clerk")
    for _ in range(5):
        password_step(client, city.code, "clerk", "wrong password!!")
    with db.transaction(city.id) as s:   # the lockout's time has passed
        s.query(StaffAccount).filter_by(username="clerk").one().locked_until = \
            datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=1)
    password_step(client, city.code, "clerk", STAFF_PASSWORD)
    page = client.get(totp_step(client, pyotp.TOTP(account.totp_secret).now()).headers["Location"])
    assert any("一時的にロックされていました" in text for text in flashed(page))
    with client.session_transaction() as sess:   # another day, another browser session
        sess.clear()
    password_step(client, city.code, "clerk", STAFF_PASSWORD)
    code = pyotp.TOTP(account.totp_secret).at(datetime.now(timezone.utc) + timedelta(seconds=30))
    page = client.get(totp_step(client, code).headers["Location"])
    assert not any("ロック" in text for text in flashed(page))   # told once


def test_counts_are_shared_through_redis_when_configured(app_config, committed_database_url):
    """Two workers (two apps) with one Redis: together they meet the per-address limit.
    In a database of their own: their refusals are committed (auth_event rows), which the
    shared test database must not keep for the tests after."""
    import secrets
    from portal import create_app
    from tests.conftest import https_client
    settings = {**app_config, "DATABASE_URL": committed_database_url,
                "RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379",
                "RATELIMIT_KEY_PREFIX": f"test-{secrets.token_hex(6)}", "STAFF_LOGIN_RATE_LIMIT": "4/minute"}
    workers = [https_client(create_app(settings)) for _ in range(2)]
    codes = [workers[n % 2].post("/staff/login", data={
        "csrf_token": csrf(workers[n % 2], "/staff/login"), "municipality_code": "999999",
        "username": f"user{n}", "password": "x"}).status_code for n in range(6)]
    assert codes == [200] * 4 + [429] * 2
