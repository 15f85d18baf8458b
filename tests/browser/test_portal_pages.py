"""What a resident and a clerk see in a real browser."""
import pyotp
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.conftest import STAFF_PASSWORD


def test_home_page_is_japanese(page, make_city):
    make_city()
    driver = page.open("/")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"
    assert "窓口へようこそ" in driver.find_element(By.TAG_NAME, "h1").text
    assert page.shot("home").stat().st_size > 10_000
    # the stylesheet loaded under the CSP: tiles are laid out as a grid
    menu = driver.find_element(By.CSS_SELECTOR, ".menu")
    assert menu.value_of_css_property("display") == "grid"


def test_clerk_signs_in_with_totp_and_opens_a_record(page, make_city, make_resident, make_staff,
                                                     db):
    city = make_city()
    person = make_resident(city, family="土佐", given="花子")
    clerk = make_staff(city, roles=["registry_clerk"], username="clerk")
    driver = page.open("/staff/login")
    driver.find_element(By.ID, "municipality_code").send_keys(city.code)
    driver.find_element(By.ID, "username").send_keys("clerk")
    page.follow(driver.find_element(By.ID, "password"), STAFF_PASSWORD + Keys.ENTER)
    page.follow(driver.find_element(By.ID, "code"), pyotp.TOTP(clerk.totp_secret).now() + Keys.ENTER)
    assert "職員メニュー" in driver.find_element(By.TAG_NAME, "h1").text
    page.open("/registry/residents?q=土佐")
    page.follow(driver.find_element(By.LINK_TEXT, person.name))
    assert "土佐" in driver.find_element(By.TAG_NAME, "h1").text
    page.shot("registry-resident")


def test_wrong_password_shows_a_plain_message(page, make_city, make_staff):
    city = make_city()
    make_staff(city, username="clerk")
    driver = page.open("/staff/login")
    driver.find_element(By.ID, "municipality_code").send_keys(city.code)
    driver.find_element(By.ID, "username").send_keys("clerk")
    page.follow(driver.find_element(By.ID, "password"), "not the password" + Keys.ENTER)
    alert = driver.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert "利用者名またはパスワードが違います" in alert.text
    # focus moves to the message, so screen readers announce it
    assert driver.switch_to.active_element == alert


def test_resident_sees_who_read_their_record(page, client, sign_in_as, make_city, make_resident,
                                             make_staff):
    city = make_city()
    person = make_resident(city)
    sign_in_as(make_staff(city, roles=["registry_clerk"], username="clerk"))
    client.get(f"/registry/residents/{person.id}")
    page.adopt_session(sign_in_as(person))
    driver = page.open("/me/access-log/")
    table = driver.find_element(By.CSS_SELECTOR, "table").text
    assert "職員 clerk" in table and "住民記録の確認" in table
    page.shot("resident-access-log")


def test_back_button_after_logout_shows_nothing_personal(page, make_city, make_resident, client,
                                                         sign_in_as):
    city = make_city()
    person = make_resident(city, address="南国市見えない町9番地")
    page.adopt_session(sign_in_as(person))
    driver = page.open("/me/")
    assert "見えない町" in driver.page_source
    page.follow(driver.find_element(By.CSS_SELECTOR, ".tools button"))
    assert "ログアウトしました" in driver.find_element(By.TAG_NAME, "h1").text
    driver.back()
    assert "見えない町" not in driver.page_source
