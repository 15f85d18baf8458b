from __future__ import annotations

from portal.web.i18n import gettext as _

from portal.api import MenuItem, Role, ServicePlugin
from services.maternal_health.views import bp


class MaternalHealthService(ServicePlugin):
    """母子健康手帳: pregnancy, birth, checkups, growth charts and immunisations."""

    name = "maternal_health"
    title = "母子健康手帳"
    title_en = "Maternal and child health handbook"
    models_module = "services.maternal_health.models"

    def blueprint(self):
        return bp

    def menu_items(self, viewer):
        """Residents get their handbook; health staff get the entry and worklist pages."""
        if viewer is None:
            return []
        if viewer.is_resident:
            return [MenuItem(_("母子健康手帳"), "maternal_health.index",
                             _("妊娠・健診・予防接種の記録を確認できます。"))]
        if viewer.has_role(Role.HEALTH_STAFF):
            return [MenuItem(_("母子保健"), "maternal_health.staff_home",
                             _("健診・予防接種の記録の入力と勧奨対象者の一覧"))]
        return []
