from __future__ import annotations

import pytest

from tests.browser.conftest import browser, live_server, page  # noqa: F401


@pytest.fixture
def operator(make_city, make_staff):
    """A joint-cloud operator (a staff account of 南国市 with only the operator role)."""
    home = make_city("392049", "南国市", population=47_982)
    return make_staff(home, roles=["cloud_operator"], username="cloud_op")


@pytest.fixture
def cli_runner(app):
    """Invoke `madoguchi cloud …` against the test app (same connection, rolled back)."""
    from click.testing import CliRunner

    from portal.cli import Context
    from portal.jointcloud.cli import cloud

    context = Context()
    context._app = app

    def invoke(*args, input=None):
        return CliRunner().invoke(cloud, list(map(str, args)), obj=context, input=input,
                                  catch_exceptions=False)
    return invoke
