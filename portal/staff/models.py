from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, TenantScoped


class Role(enum.StrEnum):
    ADMINISTRATOR = "administrator"          # 管理者
    REGISTRY_CLERK = "registry_clerk"        # 住民記録担当
    HEALTH_STAFF = "health_staff"            # 保健師・母子保健担当
    ISSUANCE_OPERATOR = "issuance_operator"  # 証明書交付担当
    # Runs the shared deployment: usage and settings of every city, never personal records.
    CLOUD_OPERATOR = "cloud_operator"


ROLE_LABELS = {
    Role.ADMINISTRATOR: "管理者",
    Role.REGISTRY_CLERK: "住民記録担当",
    Role.HEALTH_STAFF: "母子保健担当",
    Role.ISSUANCE_OPERATOR: "証明書交付担当",
    Role.CLOUD_OPERATOR: "共同利用運用担当",
}

# Roles that may open residents' personal records (each further limited by its area).
PERSONAL_DATA_ROLES = frozenset({Role.ADMINISTRATOR, Role.REGISTRY_CLERK,
                                 Role.HEALTH_STAFF, Role.ISSUANCE_OPERATOR})


class StaffAccount(TenantScoped, Base):
    __tablename__ = "staff_account"
    __table_args__ = (UniqueConstraint("municipality_id", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str] = mapped_column(String(64))
    roles_text: Mapped[str] = mapped_column("roles", String(200))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # The last TOTP step accepted, so one code cannot be replayed within its window.
    last_totp_step: Mapped[int | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r) for r in self.roles_text.split(",") if r)

    @roles.setter
    def roles(self, roles) -> None:
        self.roles_text = ",".join(sorted(Role(r).value for r in roles))

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))
