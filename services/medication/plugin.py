from __future__ import annotations

from flask_babel import gettext as _

from portal.plugins import MenuItem, ServicePlugin
from services.medication.views import STAFF_ROLES, bp


class MedicationService(ServicePlugin):
    """お薬手帳: JAHIS medication records imported from pharmacies' QR codes and apps."""

    name = "medication"
    title = "お薬手帳"
    title_en = "Medication history"
    models_module = "services.medication.models"

    def blueprint(self):
        return bp

    def menu_items(self, viewer):
        if viewer is None:
            return []
        if viewer.is_resident:
            return [MenuItem(_("お薬手帳"), "medication.index",
                             _("調剤された薬の記録を確認できます。"))]
        if viewer.has_role(*STAFF_ROLES):
            return [MenuItem(_("お薬手帳（職員）"), "medication.staff_search",
                             _("住民のお薬手帳を確認・取り込みします。"))]
        return []
