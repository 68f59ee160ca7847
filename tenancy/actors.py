"""Who did something: a member, an integration (API key), the system, or an external contact
(someone without an account, known by their email address: a reporter recorded as a contact, or
an affected person added by address)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tenancy.models import Role

if TYPE_CHECKING:
    from tenancy.models import Membership, Tenant, User


@dataclass(frozen=True)
class Actor:
    kind: str  # "member", "integration", "system" or "contact"
    tenant: Tenant
    role: str
    name: str
    membership: Membership | None = None
    api_key: Any = None
    email: str = ""  # a contact's address, in lower case; a contact has no user

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

    @classmethod
    def contact(cls, tenant: Tenant, *, name: str, email: str) -> Actor:
        """Someone without an account, acting by a signed link or by mail. They act with the
        requester's role, so they may do only what a requester may do, on their own incidents
        (incidents/rules.py: is_reporter)."""
        email = email.strip().lower()
        # Events keep the name in 150 characters; an address alone may be longer.
        return cls(
            kind="contact",
            tenant=tenant,
            role=Role.REQUESTER,
            name=((name or "").strip() or email)[:150],
            email=email,
        )

    def event_fields(self) -> dict[str, Any]:
        return {
            "actor_kind": self.kind,
            "actor_user": self.user,
            "actor_name": self.name,
        }
