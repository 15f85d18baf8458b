"""A percentile flag and a measurement's name read in English on English pages (they were
"Out of range (percentile: 3未満)" and "体重 is outside …")."""
from __future__ import annotations

import re

from flask_babel import force_locale, gettext

from services.maternal_health import growth
from services.maternal_health.views import position_words, tr_args

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")


def test_positions_and_measures_are_translated(app):
    flagged = growth.classify(growth.Measure.WEIGHT, "female", 12, 6.0)
    assert flagged.flagged and flagged.position == "3未満"
    with app.test_request_context(), force_locale("en"):
        assert position_words("3未満") == "below 3" and position_words("97超") == "above 97"
        assert position_words("25〜50") == "25–50"
        sentence = gettext(flagged.message, **tr_args(flagged.args))
        flag = gettext("範囲外（パーセンタイル：%(p)s）", p=position_words(flagged.position))
    assert not JAPANESE.search(sentence), sentence
    assert flag == "Out of range (percentile: below 3)"
    with app.test_request_context(), force_locale("ja"):
        assert position_words("3未満") == "3未満"
