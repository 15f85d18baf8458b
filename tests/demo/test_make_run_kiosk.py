"""The kiosk exactly as `make run` starts it (scripts/run-demo.sh: the demo, the virtual
card, the home bridge and the kiosk's bridge, the portal): one tap to the PIN pad, the OK
button in sight at 520×720 and at 1080×1920 portrait, sign-in with the demo card, then the
card is pulled through `madoguchi card serve` (its stdin is instance/card-control) and the
screen must be wiped within 2 s.

Uses the machine's pcscd, vpcd port 35963 and bridge ports 35980/35981: run under
/tmp/pcsc.lock like every card test."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import ARTIFACTS, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.card]

ROOT = Path(__file__).resolve().parents[2]
KIOSK = "/kiosk/demo-kiosk"
PIN = "1234"
MOTHER_ADDRESS = "南国市大そね甲1234番地"
WIPE_LIMIT_S = 2.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    """scripts/run-demo.sh in a fresh instance folder on a free portal port."""
    instance = tmp_path_factory.mktemp("instance")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MADOGUCHI_")}
    env.update(HOST="127.0.0.1", PORT=str(port), MADOGUCHI_INSTANCE_PATH=str(instance),
               DEMO_RESIDENTS="20")
    log = (instance / "run-demo.log").open("w")
    script = subprocess.Popen([str(ROOT / "scripts" / "run-demo.sh")], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while not (answers(base + "/healthz") and answers("http://127.0.0.1:35981/status")
               and answers("http://127.0.0.1:35980/status")):
        if script.poll() is not None or time.monotonic() > deadline:
            log.flush()
            pytest.fail("make run did not come up:\n" + (instance / "run-demo.log").read_text())
        time.sleep(0.5)
    yield {"base": base, "control": instance / "card-control"}
    os.killpg(script.pid, signal.SIGTERM)   # the script's own trap stops its card and bridges
    script.wait(timeout=30)
    log.close()


def wait(driver, seconds: float = 15):
    return WebDriverWait(driver, seconds, poll_frequency=0.05)


def ok_in_sight(driver) -> bool:
    """The OK button is on screen without scrolling: its box inside the viewport."""
    return driver.execute_script(
        "const r = document.getElementById('submit-pin').getBoundingClientRect();"
        "return window.scrollY === 0 && r.top >= 0 && r.bottom <= window.innerHeight"
        " && r.right <= window.innerWidth && r.height >= 44;")


def shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def card(make_run, command: str) -> None:
    with open(make_run["control"], "w", encoding="utf-8") as control:
        control.write(command + "\n")


def test_the_make_run_kiosk_signs_in_with_one_tap_and_wipes_when_the_card_leaves(make_run, browser):  # noqa: F811
    driver = browser
    driver.delete_all_cookies()
    driver.set_window_size(1080, 1920)
    portal = driver.current_window_handle
    try:
        driver.get(make_run["base"] + KIOSK)
        start = wait(driver).until(EC.element_to_be_clickable((By.ID, "card-login-start")))
        shot(driver, "make-run-kiosk-start")
        start.click()                                                  # the one tap
        wait(driver).until(lambda d: len(d.window_handles) == 2)
        driver.switch_to.window(next(h for h in driver.window_handles if h != portal))
        for width, height in ((520, 720), (1080, 1920)):
            driver.set_window_size(width, height)
            wait(driver).until(EC.visibility_of_element_located((By.ID, "pinpad")))
            assert ok_in_sight(driver), (width, height)
            shot(driver, f"make-run-kiosk-pinpad-{width}x{height}")
        for digit in PIN:
            driver.find_element(By.CSS_SELECTOR, f'#pinpad button[data-key="{digit}"]').click()
        driver.find_element(By.ID, "submit-pin").click()
        driver.switch_to.window(portal)
        wait(driver, 30).until(lambda d: urlsplit(d.current_url).path == "/")
        driver.get(make_run["base"] + "/me/")
        assert MOTHER_ADDRESS in driver.page_source
        wait(driver).until(lambda d: d.execute_script(
            "const c = document.getElementById('kiosk-config'); return c && c.dataset.listening === '1';"))
        shot(driver, "make-run-kiosk-signed-in")

        removed_at = time.monotonic()
        card(make_run, "remove")
        wait(driver, 10).until(lambda d: d.execute_script(
            "return location.pathname === arguments[0] && !document.getElementById('kiosk-config')"
            " && document.readyState === 'complete'", KIOSK))
        elapsed = time.monotonic() - removed_at
        shot(driver, "make-run-kiosk-after-removal")
        print(f"make run kiosk: screen wiped {elapsed:.2f} s after the card left the reader")
        assert elapsed <= WIPE_LIMIT_S, f"wiped {elapsed:.2f} s after the card left"
        assert MOTHER_ADDRESS not in driver.page_source
        driver.get(make_run["base"] + "/me/")
        assert MOTHER_ADDRESS not in driver.page_source
    finally:
        card(make_run, "insert")
        for handle in driver.window_handles:
            if handle != portal:
                driver.switch_to.window(handle)
                driver.close()
        driver.switch_to.window(portal)
        driver.set_window_size(1280, 900)
