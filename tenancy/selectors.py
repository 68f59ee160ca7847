from collections.abc import Iterator

from django.db.models import Q, QuerySet
from django.http import Http404

from tenancy import rls
from tenancy.models import Invitation, Membership, Tenant, User


def memberships_for_user(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, is_active=True, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__name")
    )


def person_memberships(user: User) -> list[Membership]:
    """The person's active memberships, read in their own scope (tenancy/rls.py): for the pages
    and records that come before, or reach beyond, the tenant of a request."""
    with rls.person_scope(user.pk):
        return list(memberships_for_user(user).select_related("user"))


def each_membership(user: User, *, besides: Tenant | None = None) -> Iterator[Membership]:
    """Each active membership of the person (but `besides`), with its tenant's scope entered
    while the caller handles it: to record one event in every tenant the person belongs to."""
    for membership in person_memberships(user):
        if besides is not None and membership.tenant_id == besides.pk:
            continue
        with rls.tenant_scope(membership.tenant_id, user_id=user.pk):
            yield membership


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
