"""Tenants, members and per-tenant sequences."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from tenancy.models import Membership, Role, Tenant, TenantCounter, User


def counter_next(*, tenant: Tenant, name: str) -> int:
    """Next value of a gap-free tenant sequence; call inside the transaction that uses it.

    The UPDATE takes the counter's row lock until commit, so concurrent allocators queue and a
    rolled-back allocation returns its number.
    """
    with transaction.atomic():
        qs = TenantCounter.objects.for_tenant(tenant).filter(name=name)
        if not qs.update(value=F("value") + 1):
            try:
                with transaction.atomic():
                    TenantCounter.objects.create(tenant=tenant, name=name, value=0)
            except IntegrityError:
                pass  # another transaction created it first; its row lock orders us after it
            qs.update(value=F("value") + 1)
        return qs.values_list("value", flat=True).get()


@transaction.atomic
def tenant_create(*, slug: str, name: str, time_zone: str = "UTC") -> Tenant:
    from incidents.services.defaults import tenant_defaults_install

    tenant = Tenant.objects.create(slug=slug, name=name, time_zone=time_zone)
    TenantCounter.objects.create(tenant=tenant, name="incident", value=0)
    tenant_defaults_install(tenant=tenant)
    from escalation.services.defaults import sla_defaults_install

    sla_defaults_install(tenant=tenant)  # SLA calendars, targets, escalation policy
    return tenant


def membership_add(*, tenant: Tenant, user: User, role: str = Role.REQUESTER) -> Membership:
    membership, created = Membership.objects.get_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    if not created and (membership.role != role or not membership.is_active):
        membership.role = role
        membership.is_active = True
        membership.deactivated_at = None
        membership.save(update_fields=["role", "is_active", "deactivated_at"])
    return membership
