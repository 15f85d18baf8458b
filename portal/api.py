"""The portal's public API for service plugins. Services import from here, never from the
portal's internals, so the core can change behind it."""
from portal.audit.services import log_access, log_listing
from portal.clock import JST, to_jst, today_jst
from portal.fonts import GOTHIC, MINCHO, FontMissing, font_file, japanese_font
from portal.pdflayout import (Box, LayoutOverflow, WrappedText, column_widths, draw_in_box, fit_text,
                              grid_table, wrap_lines)
from portal.cards.errors import CardTokenError
from portal.cards.services import consume_challenge, find_binding, issue_challenge, validators
from portal.cards.validation import parse_token, signed_data
from portal.cli import Context as CliContext, pass_ctx
from portal.extensions import csrf, limiter
from portal.services_host import service_enabled
from portal.auth import (Viewer, current_viewer, resident_required, signed_in_required,
                         staff_required)
from portal.db import (Base, Read, Rows, TenantScoped, across_municipalities, rows_of, scoped,
                       tenant_of)
from portal.extensions import current_unit, database, get_db
from portal.unit_of_work import Actor, unit_of_work
from portal.metering.services import record_usage
from portal.plugins import MenuItem, ServicePlugin
from portal.registry.models import (GuardianLink, Household, Resident, ResidentRead,
                                    ResidentStatus, SealRegistration, Sex, TaxRecord)
from portal.registry.access import (child_of, children_of, guardians_of, is_guardian_of,
                                    resident_row, viewable_resident, viewable_resident_ids)
from portal.registry.search import SearchResult, find_residents, resident_search
from portal.staff.models import Role
from portal.tenancy.assets import city_asset
from portal.tenancy.models import Municipality
from portal.web.forms import PortalForm
from portal.web.fragments import Fragment

__all__ = [
    "Actor", "current_unit", "unit_of_work",
    "JST", "to_jst", "today_jst",
    "GOTHIC", "MINCHO", "FontMissing", "font_file", "japanese_font",
    "Box", "LayoutOverflow", "WrappedText", "column_widths", "draw_in_box", "fit_text",
    "grid_table", "wrap_lines",
    "CardTokenError", "CliContext", "pass_ctx", "consume_challenge", "csrf", "find_binding", "issue_challenge",
    "limiter", "parse_token", "service_enabled", "signed_data", "validators",
    "Base", "GuardianLink", "Household", "MenuItem", "Municipality", "PortalForm", "Resident",
    "ResidentRead", "ResidentStatus", "Role", "SealRegistration", "SearchResult", "ServicePlugin", "Sex", "TaxRecord",
    "TenantScoped", "Viewer", "across_municipalities", "child_of", "children_of", "city_asset", "guardians_of", "resident_search", "current_viewer",
    "database", "find_residents", "get_db", "is_guardian_of", "log_access", "log_listing", "record_usage",
    "resident_required",
    "Fragment", "Read", "Rows", "resident_row", "rows_of", "scoped", "signed_in_required", "staff_required", "tenant_of", "viewable_resident", "viewable_resident_ids",
]
