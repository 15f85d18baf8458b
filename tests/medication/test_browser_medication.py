"""In the browser: a resident pastes a pharmacy's QR text, sees the timeline with the
allergy on top, and follows the duplicate alert."""
from __future__ import annotations

from datetime import date

from selenium.webdriver.common.by import By

from tests.medication.helpers import overlapping_case


def test_import_then_timeline_then_duplicate_alert(page, client, sign_in_as, make_city,
                                                   make_resident):
    city = make_city("392049", "南国市")
    hanako = make_resident(city, family="高知", given="花子")
    sign_in_as(hanako)
    page.adopt_session(client)
    driver = page.open(f"/services/medication/people/{hanako.id}/import")
    driver.find_element(By.NAME, "text").send_keys(overlapping_case(date.today()))
    page.follow(driver.find_element(By.CSS_SELECTOR, "form.form button[type=submit]"))
    result = driver.find_element(By.CSS_SELECTOR, ".med-result")
    assert "取り込みました" in result.text and "調剤記録" in result.text
    page.follow(result.find_element(By.LINK_TEXT, "調剤の記録を見る"))

    allergy = driver.find_element(By.CSS_SELECTOR, ".med-allergy")
    assert "ペニシリン系抗生物質で発疹" in allergy.text
    visits = driver.find_elements(By.CSS_SELECTOR, ".med-visit h3")
    assert len(visits) == 2 and "ごめん駅前薬局" in visits[0].text
    page.shot("medication-timeline")

    page.follow(driver.find_element(By.CSS_SELECTOR, ".med-alert-link a"))
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.med-alert")
    assert len(rows) == 1
    assert "同一成分の重複" in rows[0].text and "ノルバスク錠5mg" in rows[0].text
    assert "薬品マスタがないため" in driver.find_element(By.CSS_SELECTOR, ".med-unchecked").text
    assert "薬品マスタが読み込まれていない" in driver.find_element(By.CSS_SELECTOR, ".med-limits").text
    assert page.shot("medication-duplicate-alert").stat().st_size > 10_000
