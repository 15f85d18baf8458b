"""The apportionment report in a real browser: the table, the SVG chart (loaded under the
Content-Security-Policy), and a screenshot kept in test-artifacts/."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from portal.jointcloud import example

pytestmark = pytest.mark.browser


def test_apportionment_report_in_the_browser(page, db, client, sign_in_as, operator, make_city):
    make_city("392111", "香南市", population=32_961)
    make_city("392120", "香美市", population=27_513)
    with db.transaction() as s:
        example.load(s)
    sign_in_as(operator)
    page.adopt_session(client)
    driver = page.open("/operator/apportionment")
    assert driver.find_element(By.TAG_NAME, "h1").text == "経費の按分"
    comparison = driver.find_element(By.CSS_SELECTOR, "table.comparison").text
    for figure in ("18,522", "8,440", "17,676", "11,088", "36,198", "19,528", "△16,670"):
        assert figure in comparison
    chart = driver.find_element(By.CSS_SELECTOR, "img.chart")
    assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", chart) > 0
    assert not [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    shot = page.shot("jointcloud-apportionment")
    assert shot.exists() and shot.stat().st_size > 10_000


def test_usage_tables_keep_each_city_name_on_one_line(page, db, client, sign_in_as, operator,
                                                      make_city, make_resident):
    """The per-table list squeezed the city column to one character a line. Measured in
    the browser at a tablet's width: every city cell is one line box."""
    for code, name in (("392111", "香南市"), ("392120", "香美市"), ("393011", "いの町")):
        make_resident(make_city(code, name))
    sign_in_as(operator)
    page.adopt_session(client)
    size = page.driver.get_window_size()
    page.driver.set_window_size(700, 900)
    try:
        driver = page.open("/operator/usage")
        lines = driver.execute_script(
            "return [...document.querySelectorAll('table.storage .city')].map(cell => {"
            "  const range = document.createRange(); range.selectNodeContents(cell);"
            "  return [cell.textContent, new Set([...range.getClientRects()]"
            "    .map(r => Math.round(r.top))).size]; });")
    finally:
        page.driver.set_window_size(size["width"], size["height"])
    assert len(lines) == 4
    assert all(count == 1 for _name, count in lines), lines
