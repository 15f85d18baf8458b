"""Imports every core model so the shared metadata knows all core tables."""
from portal.audit.models import AccessLogEntry  # noqa: F401
from portal.cards.models import CardBinding  # noqa: F401
from portal.registry.models import (GuardianLink, Household, Resident,  # noqa: F401
                                    SealRegistration, TaxRecord)
from portal.staff.models import StaffAccount  # noqa: F401
from portal.tenancy.models import Municipality  # noqa: F401
from portal.metering.models import UsageEvent  # noqa: F401
from portal.cards.models import LoginChallenge  # noqa: F401
from portal.sessions.models import UserSession  # noqa: F401
from portal.oidc.models import OidcAuthorizationCode, OidcClient, OidcSigningKey, OidcToken  # noqa: F401
from portal.jointcloud.models import (ApportionmentBasis, ConfigChange, CostLine,  # noqa: F401
                                      Departure, StandaloneEstimate)
from portal.audit.auth_events import AuthEvent  # noqa: F401
