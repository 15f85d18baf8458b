"""The bridge's English counts tries as English does."""
from madoguchi_smartcard.bridge.cardwork import failure


def test_one_try_left_is_singular():
    assert "1 more wrong try will lock it" in failure("wrong_pin", tries_left=1).message_en
    assert "2 more wrong tries will lock it" in failure("wrong_password", tries_left=2).message_en
    assert "あと1回" in failure("wrong_pin", tries_left=1).message_ja


def english_outside_lang_en(markup: str) -> list[str]:
    """Text with English words that no element marked lang="en" holds: a screen reader
    would read it in the page's Japanese voice (WCAG 3.1.2)."""
    import re
    from html.parser import HTMLParser
    allowed = {"PIN", "My", "Number", "ID", "QR", "OK"}   # written so in Japanese text too
    found: list[str] = []

    class Walker(HTMLParser):
        def __init__(self):
            super().__init__()
            self.langs: list[tuple[str, str | None]] = []

        def handle_starttag(self, tag, attrs):
            if tag not in {"br", "img", "input", "meta", "link", "hr"}:
                self.langs.append((tag, dict(attrs).get("lang")))

        def handle_endtag(self, tag):
            while self.langs and self.langs.pop()[0] != tag:
                pass

        def handle_data(self, data):
            if any(tag in {"script", "style", "title"} for tag, _ in self.langs):
                return
            lang = next((lang for _, lang in reversed(self.langs) if lang), "ja")
            words = {w for w in re.findall(r"(?<![$\w])[A-Za-z]{2,}", data)} - allowed
            if words and not lang.startswith("en"):
                found.append(data.strip())

    Walker().feed(markup)
    return found


def test_every_english_phrase_of_the_bridge_pages_is_marked_english():
    from pathlib import Path
    import madoguchi_smartcard.bridge as bridge
    templates = sorted((Path(bridge.__file__).parent / "templates").glob("*.html"))
    assert templates
    unmarked = {t.name: english_outside_lang_en(t.read_text("utf-8")) for t in templates}
    assert {name: texts for name, texts in unmarked.items() if texts} == {}
