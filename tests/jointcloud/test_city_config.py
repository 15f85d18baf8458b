"""City configuration: validation with Japanese messages, the file form, differences."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.jointcloud import config

GOOD = {"services": ["medication"], "hours": {"counter": "08:30-17:15"},
        "branding": {"primary_colour": "#1b5e20", "display_name": "南国市"},
        "issuance": {"certificates": [{"type": "juminhyo", "name": "住民票の写し", "fee": 300}]},
        "seal_image": "seals/392049.png", "maternal_health": {"reminders": True}}


def test_good_settings_pass_and_unknown_keys_are_kept():
    settings = config.validate_settings(GOOD, ["medication", "maternal_health"])
    assert settings["maternal_health"] == {"reminders": True}


@pytest.mark.parametrize("change, message", [
    ({"services": ["nope"]}, "このシステムにないサービス"),
    ({"hours": {"counter": "8時から"}}, "08:30-17:15"),
    ({"branding": {"primary_colour": "red"}}, "#1b5e20"),
    ({"issuance": {"certificates": [{"type": "juminhyo", "name": "住民票", "fee": -1}]}}, "手数料"),
    ({"issuance": {"certificates": [{"type": "a", "name": "x", "fee": 1},
                                    {"type": "a", "name": "y", "fee": 2}]}}, "重複"),
])
def test_bad_settings_say_what_is_wrong(change, message):
    with pytest.raises(config.ConfigInvalid) as caught:
        config.validate_settings({**GOOD, **change}, ["medication"])
    assert any(message in p for p in caught.value.problems)


json_leaves = st.one_of(st.text(max_size=10), st.integers(-10**6, 10**6), st.booleans())
settings_like = st.recursive(json_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text("abc_", min_size=1, max_size=5), inner,
                                                 max_size=3)), max_leaves=12)


@settings(deadline=None)  # timing belongs in bench/, not here
@given(st.dictionaries(st.text("abcdef_", min_size=1, max_size=6), settings_like, max_size=5))
def test_toml_and_json_round_trip(settings):
    document = {"format": config.FORMAT, "municipality": {"code": "392049", "name": "南国市",
                                                          "population": 1}, "settings": settings}
    for fmt in ("toml", "json"):
        assert config.loads(config.dumps(document, fmt), f"x.{fmt}") == document


def test_diff_lists_changed_leaves_only():
    before = {"a": {"b": 1, "c": 2}, "l": [1, 2]}
    after = {"a": {"b": 1, "c": 3, "d": 4}, "l": [1]}
    assert config.diff(before, after) == [
        {"path": "a.c", "before": 2, "after": 3}, {"path": "a.d", "before": None, "after": 4},
        {"path": "l", "before": [1, 2], "after": [1]}]
    assert config.diff(before, before) == []
