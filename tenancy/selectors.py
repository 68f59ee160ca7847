from django.db.models import Q, QuerySet
from django.http import Http404

from tenancy.models import Invitation, Membership, Tenant, User


def memberships_for_user(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, is_active=True, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__name")
    )


def members_for_tenant(*, tenant: Tenant, search: str = "") -> QuerySet[Membership]:
    """The members page: active people first, then by name."""
    members = Membership.objects.for_tenant(tenant).select_related("user")
    if search:
        members = members.filter(
            Q(user__email__icontains=search) | Q(user__full_name__icontains=search)
        )
    return members.order_by("-is_active", "user__full_name", "user__email", "pk")


def invitations_pending(*, tenant: Tenant) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_tenant(tenant)
        .filter(accepted_at=None, revoked_at=None)
        .select_related("user", "invited_by")
        .order_by("-sent_at", "pk")
    )


def tenant_public(slug: str) -> Tenant:
    """A tenant for the pages that need no membership (sign-up, links from emails)."""
    tenant = Tenant.objects.filter(slug=slug, is_active=True).first()
    if tenant is None:
        raise Http404("No organisation here.")
    return tenant
