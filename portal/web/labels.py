"""Words for stored codes (actions, statuses, roles), translated when shown."""
from __future__ import annotations

from flask import Flask
from flask_babel import gettext, lazy_gettext as _l

ACTIONS = {"read": _l("閲覧"), "create": _l("作成"), "update": _l("更新"),
           "export": _l("出力"), "delete": _l("削除"), "issue": _l("交付"),
           "search": _l("検索結果に表示")}
STATUSES = {"active": _l("住民"), "moved_out": _l("転出"), "deceased": _l("死亡")}


def init_app(app: Flask) -> None:
    app.jinja_env.filters["action_label"] = lambda code: ACTIONS.get(code, code)
    app.jinja_env.filters["status_label"] = lambda status: STATUSES.get(
        getattr(status, "value", status), status)
    # Purposes are stored as the Japanese sentence shown to the resident; the catalog
    # carries their English where one exists.
    app.jinja_env.filters["purpose_label"] = lambda text: gettext(text) if text else text
