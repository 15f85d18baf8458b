"""In a real browser: health staff enter a checkup (one value refused, one flagged), the
guardian sees it with its growth chart, and staff see the amendment history."""
from selenium.webdriver.common.by import By

BASE = "/services/maternal_health"


def fill(driver, values: dict) -> None:
    for name, value in values.items():
        element = driver.find_element(By.ID, name)
        if element.get_attribute("type") == "date":
            # typing into a date picker depends on the browser's locale; set the value
            driver.execute_script("arguments[0].value = arguments[1]", element, value)
        elif element.tag_name == "select":
            element.find_element(By.CSS_SELECTOR, f"option[value='{value}']").click()
        else:
            element.clear()
            element.send_keys(value)


def submit(page) -> None:
    page.follow(page.driver.find_element(By.CSS_SELECTOR, "form.mh-form button[type=submit]"))


def test_checkup_entry_guardian_chart_and_amendment_history(page, client, sign_in_as, family):
    child = family["child"]
    page.adopt_session(sign_in_as(family["nurse"]))
    driver = page.open(f"{BASE}/staff/residents/{child.id}/records/checkup/new")
    fill(driver, {"occasion": "m3_4", "checked_on": "2024-10-01", "weight_kg": "65",
                  "height_cm": "70.5", "head_cm": "41.2"})
    submit(page)
    error = driver.find_element(By.ID, "weight_kg-error")
    assert "ありえません" in error.text                          # refused beside the field
    assert driver.find_element(By.ID, "height_cm").get_attribute("value") == "70.5"  # kept
    page.shot("maternal-health-refused-value")

    fill(driver, {"weight_kg": "7.1"})   # height 70.5 cm at 3.7 months stays above the 97th
    submit(page)
    flashes = " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, ".flash"))
    assert "記録しました" in flashes and "身長が3〜97パーセンタイルの範囲外" in flashes
    assert driver.find_element(By.CSS_SELECTOR, "#checkups .mh-flag").is_displayed()

    # the guardian sees the checkup and its growth chart
    page.adopt_session(sign_in_as(family["mother"]))
    driver = page.open(f"{BASE}/children/{child.id}")
    assert "3〜4か月児" in driver.find_element(By.ID, "checkups").text
    chart = driver.find_element(By.CSS_SELECTOR, "#chart-height svg")
    assert chart.size["width"] > 400 and chart.size["height"] > 250
    assert "2023年" in driver.find_element(By.ID, "chart-height").text
    assert len(driver.find_elements(By.CSS_SELECTOR, "#chart-height polygon.flagged")) == 1
    driver.execute_script("arguments[0].scrollIntoView()", chart)
    assert page.shot("maternal-health-guardian-growth-chart").stat().st_size > 20_000

    # staff correct the height, with a reason; the history shows old, new, who and why
    page.adopt_session(sign_in_as(family["nurse"]))
    driver = page.open(f"{BASE}/staff/residents/{child.id}")
    page.follow(driver.find_element(By.CSS_SELECTOR, "#checkups a[href*='/amend']"))
    fill(driver, {"height_cm": "63.5", "reason": "身長の転記誤り"})
    submit(page)
    history = driver.find_element(By.ID, "amendments").text
    assert "身長（cm）" in history and "70.5" in history and "63.5" in history
    assert "身長の転記誤り" in history and "職員 hokenshi" in history
    page.shot("maternal-health-amendment-history")
