from __future__ import annotations

from flask_babel import gettext as _

from portal.plugins import MenuItem, ServicePlugin
from services.maternal_health.views import bp


class MaternalHealthService(ServicePlugin):
    """母子健康手帳."""

    name = "maternal_health"
    title = "母子健康手帳"
    title_en = "Maternal and child health handbook"
    models_module = "services.maternal_health.models"

    def blueprint(self):
        return bp

    def menu_items(self, viewer):
        return [MenuItem(_("母子健康手帳"), "maternal_health.index", _("妊娠・健診・予防接種の記録を確認できます。"))]
