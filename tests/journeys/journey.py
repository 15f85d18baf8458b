"""A journey's steps in the browser: each step waits for its page, checks it with axe-core
and, in English, that no Japanese is left outside the data (names, addresses, drugs), and
keeps a screenshot as <SHOTS>/<journey>/<lang>/NN-step.png."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.test_accessibility import axe_violations

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f\u3005\u3006\u301c]")

# Visible text outside elements marked lang="ja" (the language switch's 日本語, the bridge's
# Japanese half): one string per text node.
VISIBLE_TEXT = """
const out = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const text = node.textContent.trim();
  const parent = node.parentElement;
  if (!text || !parent || parent.closest('script, style, [hidden], [lang^="ja"]')) continue;
  if (!parent.getClientRects().length || getComputedStyle(parent).visibility === 'hidden') continue;
  out.push(text);
}
for (const el of document.querySelectorAll('[aria-label], [title], [alt], input[placeholder]')) {
  if (el.closest('[lang^="ja"]')) continue;
  for (const a of ['aria-label', 'title', 'alt', 'placeholder'])
    if (el.getAttribute(a)) out.push(el.getAttribute(a));
}
return out;"""


def wait(driver, seconds: float = 10):
    return WebDriverWait(driver, seconds, poll_frequency=0.05, ignored_exceptions=(WebDriverException,))


class Journey:
    """One person's way through the portal in one language."""

    def __init__(self, page, name: str, lang: str, shots, data: tuple[str, ...] = ()):
        self.page, self.driver, self.name, self.lang = page, page.driver, name, lang
        self.folder = shots / name / lang
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.data = sorted(set(data), key=len, reverse=True)   # longest first: 南国市大そね… before 南国市
        self.steps = 0
        self.problems: dict[str, list[str]] = {}
        self.portal = None

    # -- moving ------------------------------------------------------------------------------

    def open(self, path: str):
        return self.page.open(path)

    def follow(self, element, keys: str | None = None):
        return self.page.follow(element, keys)

    def click_link(self, href_part: str):
        """Follow the first visible link of main whose address contains href_part."""
        link = next(a for a in self.driver.find_elements(By.CSS_SELECTOR, "main a[href]")
                    if href_part in a.get_attribute("href") and a.is_displayed())
        return self.follow(link)

    def path(self) -> str:
        return urlsplit(self.driver.current_url).path

    def wait_for_path(self, path: str, seconds: float = 15) -> None:
        wait(self.driver, seconds).until(lambda d: urlsplit(d.current_url).path == path
                                         and d.execute_script("return document.readyState") == "complete")

    def choose_language(self) -> None:
        """The language switch every page offers in its header (a cookie from then on)."""
        if self.lang == "en":
            self.follow(self.driver.find_element(By.CSS_SELECTOR, ".tools a[lang=en]"))
        assert self.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == self.lang

    # -- the bridge window -------------------------------------------------------------------

    def open_bridge(self) -> None:
        driver = self.driver
        self.portal = driver.current_window_handle
        wait(driver).until(EC.element_to_be_clickable((By.ID, "card-login-start"))).click()
        self.to_bridge()

    def to_bridge(self) -> None:
        wait(self.driver).until(lambda d: len(d.window_handles) == 2)
        self.driver.switch_to.window(next(h for h in self.driver.window_handles if h != self.portal))

    def to_portal(self) -> None:
        self.driver.switch_to.window(self.portal)

    def wait_bridge_closed(self) -> None:
        wait(self.driver).until(lambda d: len(d.window_handles) == 1)
        self.to_portal()

    # -- checking ----------------------------------------------------------------------------

    def text(self, selector: str = "main") -> str:
        return self.driver.find_element(By.CSS_SELECTOR, selector).text

    def absent(self, selector: str) -> bool:
        """Nothing matches (asked of the page: the driver's implicit wait would spend 3 s)."""
        return self.driver.execute_script("return !document.querySelector(arguments[0])", selector)

    def japanese_left(self) -> list[str]:
        """Visible strings of an English page with Japanese in them once the data is taken out."""
        left = []
        for text in self.driver.execute_script(VISIBLE_TEXT):
            rest = text
            for value in self.data:
                rest = rest.replace(value, "")
            if JAPANESE.search(rest):
                left.append(text)
        return left

    def step(self, name: str, bilingual: bool = False) -> None:
        """The page now shown is a step: axe-clean, in the journey's language (a bilingual
        page, the card bridge's, is Japanese with English beside), and photographed."""
        driver = self.driver
        wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")
        self.steps += 1
        label = f"{self.steps:02d}-{name}"
        found = list(axe_violations(driver))
        lang = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
        if lang != ("ja" if bilingual else self.lang):
            found.append(f"html lang={lang}")
        if self.lang == "en":
            if bilingual:
                if not driver.find_elements(By.CSS_SELECTOR, "[lang=en]"):
                    found.append("no English beside the Japanese")
            else:
                found += [f"Japanese: {t!r}" for t in self.japanese_left()]
        if found:
            self.problems[label] = found
        driver.save_screenshot(str(self.folder / f"{label}.png"))

    def assert_clean(self) -> None:
        assert self.problems == {}, f"{self.name}/{self.lang}: {self.problems}"
        assert len(list(self.folder.glob("*.png"))) == self.steps
