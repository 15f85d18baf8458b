from tests.browser.conftest import browser, live_server, page  # noqa: F401
