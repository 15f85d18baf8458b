from __future__ import annotations

from portal.web.i18n import gettext as _

from portal.api import Role
from portal.plugins import MenuItem, ServicePlugin
from services.convenience_issuance.services import CERTIFICATE_LABELS
from services.convenience_issuance.views import bp
from services.convenience_issuance.views_api import PUBLIC_ENDPOINTS
from services.convenience_issuance.views_public import PUBLIC_VIEWS


class ConvenienceIssuanceService(ServicePlugin):
    """コンビニ交付: the municipality's certificate issuance server, its terminal API,
    signed PDFs and the public verification page."""

    name = "convenience_issuance"
    title = "コンビニ交付"
    title_en = "Convenience-store certificate issuance"
    models_module = "services.convenience_issuance.models"
    # The terminal API authenticates by card and bearer token; verification is public.
    public_endpoints = frozenset(PUBLIC_ENDPOINTS | PUBLIC_VIEWS)

    def blueprint(self):
        return bp

    def menu_items(self, viewer):
        items = [MenuItem(_("コンビニ交付"), "convenience_issuance.index",
                          _("住民票の写しなどの証明書をコンビニで受け取れます。"))]
        if viewer.has_role(Role.ISSUANCE_OPERATOR, Role.ADMINISTRATOR):
            items.append(MenuItem(_("コンビニ交付の記録"), "convenience_issuance.staff_log",
                                  _("交付ログ・日次照合・証明書の失効")))
        return items

    def cli(self):
        from services.convenience_issuance.cli import cli
        return cli

    def metric_label(self, metric):
        """`certificate_issued:<type>` (issuance.py) by the certificate's name."""
        kind, _sep, certificate = metric.partition(":")
        if kind == "certificate_issued" and certificate in CERTIFICATE_LABELS:
            return _("証明書の交付（%(certificate)s）", certificate=_(CERTIFICATE_LABELS[certificate]))
        return None
