from __future__ import annotations

from flask_babel import gettext as _

from portal.plugins import MenuItem, ServicePlugin
from services.medication.views import bp


class MedicationService(ServicePlugin):
    """お薬手帳."""

    name = "medication"
    title = "お薬手帳"
    title_en = "Medication history"
    models_module = "services.medication.models"

    def blueprint(self):
        return bp

    def menu_items(self, viewer):
        return [MenuItem(_("お薬手帳"), "medication.index", _("調剤された薬の記録を確認できます。"))]
