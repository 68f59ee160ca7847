"""Who did something: a member, an integration (API key) or the system."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tenancy.models import Role

if TYPE_CHECKING:
    from tenancy.models import Membership, Tenant, User


@dataclass(frozen=True)
class Actor:
    kind: str  # "member", "integration" or "system"
    tenant: Tenant
    role: str
    name: str
    membership: Membership | None = None
    api_key: Any = None

    @property
    def user(self) -> User | None:
        return self.membership.user if self.membership else None

    @property
    def user_id(self) -> int | None:
        return self.membership.user_id if self.membership else None

    @property
    def is_system(self) -> bool:
        return self.kind == "system"

    @property
    def is_requester(self) -> bool:
        return self.role == Role.REQUESTER

    @property
    def is_agent_or_above(self) -> bool:
        return self.role in (Role.AGENT, Role.MANAGER, Role.ADMIN) or self.is_system

    @property
    def is_manager(self) -> bool:
        return self.role in (Role.MANAGER, Role.ADMIN) or self.is_system

    @classmethod
    def member(cls, membership: Membership) -> Actor:
        return cls(
            kind="member",
            tenant=membership.tenant,
            role=membership.role,
            name=membership.user.display_name,
            membership=membership,
        )

    @classmethod
    def system(cls, tenant: Tenant, why: str = "system") -> Actor:
        return cls(kind="system", tenant=tenant, role="system", name=why)

    @classmethod
    def integration(cls, tenant: Tenant, api_key: Any, role: str) -> Actor:
        return cls(kind="integration", tenant=tenant, role=role, name=api_key.name, api_key=api_key)

    def event_fields(self) -> dict[str, Any]:
        return {
            "actor_kind": self.kind,
            "actor_user": self.user,
            "actor_name": self.name,
        }
