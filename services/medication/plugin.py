from __future__ import annotations

from pathlib import Path

from portal.web.i18n import gettext as _

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

    def cli(self):
        from services.medication.cli import cli
        return cli

    def export_city(self, db, municipality_id: int, directory: Path) -> list[Path]:
        """A leaving city's notebooks as JAHIS text, one file per resident (the open format
        pharmacies and apps read), beside the table export of `madoguchi cloud export`."""
        from services.medication import jahis, services
        from services.medication.models import MedicationDocument
        previous = db.info.get("municipality_id")
        db.info["municipality_id"] = municipality_id  # the notebook queries are city-scoped
        try:
            residents = sorted(set(db.scalars(services.scoped(MedicationDocument.resident_id))))
            folder = Path(directory) / "medication-jahis"
            folder.mkdir(parents=True, exist_ok=True)
            paths = []
            for resident_id in residents:
                document = services.notebook(db, resident_id)
                try:
                    body = jahis.write(document, "cp932")
                except jahis.UnencodableError:
                    body = b"\xef\xbb\xbf" + jahis.write(document, "utf-8")
                path = folder / f"resident-{resident_id}.txt"
                path.write_bytes(body)
                paths.append(path)
            return paths
        finally:
            db.info["municipality_id"] = previous
