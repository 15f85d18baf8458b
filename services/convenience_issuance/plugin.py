from __future__ import annotations

from flask_babel import gettext as _

from portal.plugins import MenuItem, ServicePlugin
from services.convenience_issuance.views import bp


class ConvenienceIssuanceService(ServicePlugin):
    """コンビニ交付."""

    name = "convenience_issuance"
    title = "コンビニ交付"
    title_en = "Convenience-store certificate issuance"
    models_module = "services.convenience_issuance.models"

    def blueprint(self):
        return bp

    def menu_items(self, viewer):
        return [MenuItem(_("コンビニ交付"), "convenience_issuance.index", _("住民票の写しなどの証明書をコンビニで受け取れます。"))]
