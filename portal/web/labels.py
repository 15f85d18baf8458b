"""Words for stored codes (actions, statuses, roles), translated when shown."""
from __future__ import annotations

import functools
import re

from flask import Flask
from portal.web.i18n import gettext, lazy_gettext as _l

from portal.clock import to_jst

ACTIONS = {"read": _l("閲覧"), "create": _l("作成"), "update": _l("更新"),
           "export": _l("出力"), "delete": _l("削除"), "issue": _l("交付"),
           "search": _l("検索結果に表示")}
STATUSES = {"active": _l("住民"), "moved_out": _l("転出"), "deceased": _l("死亡")}
# The sign-in log (auth_event): how, and with what result. Reasons stay the precise codes
# staff quote to the vendor (CertificateRevoked, bad_credentials, …).
AUTH_METHODS = {"card": _l("マイナンバーカード"), "card_enroll": _l("カードの利用登録"),
                "staff_password": _l("職員パスワード"), "staff_totp": _l("職員確認コード"),
                "staff_card_bind": _l("職員カードの登録")}
AUTH_OUTCOMES = {"ok": _l("成功"), "refused": _l("拒否"), "enrollment": _l("利用登録へ")}
SUBJECT_KINDS = {"resident": _l("住民"), "staff": _l("職員")}


# Access-log purposes stored with a value filled in (a partner service's name, scopes):
# each template is a msgid, registered by the module that writes it; a stored sentence is
# matched back to its template and shown translated with the same values.
PURPOSE_TEMPLATES: list[str] = []


def purpose_template(template: str) -> str:
    """Register a purpose template (a msgid with %(name)s fields); returns it unchanged."""
    PURPOSE_TEMPLATES.append(template)
    return template


@functools.lru_cache(maxsize=64)
def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"%\((\w+)\)s", template)   # literal, name, literal, name, …
    return re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                              for i, part in enumerate(parts)) + r"\Z")


def purpose_label(text: str) -> str:
    if not text:
        return text
    translated = gettext(text)
    if translated != text:
        return translated
    for template in PURPOSE_TEMPLATES:
        found = _pattern(template).match(text)
        if found:
            return gettext(template, **found.groupdict())
    return text


def init_app(app: Flask) -> None:
    # Times are stored in UTC; a person reads them in Japan time.
    app.jinja_env.filters["jst"] = lambda moment, fmt="%Y-%m-%d %H:%M": (
        to_jst(moment).strftime(fmt) if moment else "")
    app.jinja_env.filters["action_label"] = lambda code: ACTIONS.get(code, code)
    for name, words in (("auth_method_label", AUTH_METHODS), ("auth_outcome_label", AUTH_OUTCOMES),
                        ("subject_kind_label", SUBJECT_KINDS)):
        app.jinja_env.filters[name] = lambda code, words=words: words.get(code, code or "")
    app.jinja_env.filters["status_label"] = lambda status: STATUSES.get(
        getattr(status, "value", status), status)
    # A list of many residents translates the three words once, not once per row.
    app.jinja_env.globals["status_words"] = lambda: {
        code: str(word) for code, word in STATUSES.items()}
    # Purposes are stored as the Japanese sentence shown to the resident; the catalog
    # carries their English where one exists.
    app.jinja_env.filters["purpose_label"] = purpose_label
