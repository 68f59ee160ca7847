"""In-app notifications (the bell and its list) and the dead letter settings page."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from escalation.models import Notification, NotificationStatus
from escalation.selectors.notifications import inbox_for, inbox_unread_count
from escalation.services import notification_retry
from escalation.services.inbox import notification_mark_read, notifications_mark_all_read
from tenancy.decorators import admin_required, staff_required
from tenancy.http import TenantRequest
from tenancy.inputs import whole_number

PAGE_SIZE = 30


@staff_required
def bell(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """The fragment the nav's bell polls every 30 seconds."""
    unread = inbox_unread_count(actor=request.actor)
    return render(request, "escalation/bell.html", {"unread": unread})


@staff_required
def notification_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    rows = inbox_for(actor=request.actor).select_related("incident").order_by("-created_at", "-id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    unread = inbox_unread_count(actor=request.actor)
    return render(request, "escalation/notification_list.html", {"page": page, "unread": unread})


@staff_required
def notification_open(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    """Follow a notification's link. Marking read is idempotent and harmless, so a plain link
    (open in a new tab, copy) does it rather than a form."""
    notification = get_object_or_404(inbox_for(actor=request.actor), pk=pk)
    notification_mark_read(actor=request.actor, notification=notification)
    if _inside_tenant(request, notification.link, f"/t/{tenant_slug}/"):
        return redirect(notification.link)
    return redirect("notifications-list", tenant_slug=tenant_slug)


def _inside_tenant(request: TenantRequest, target: str, prefix: str) -> bool:
    """Only paths of this desk under `prefix`: never an open redirect to another site."""
    host_ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target.startswith(prefix) and host_ok


@require_POST
@staff_required
def notification_read(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    notification = get_object_or_404(inbox_for(actor=request.actor), pk=pk)
    notification_mark_read(actor=request.actor, notification=notification)
    return _back_to_list(request, tenant_slug)


@require_POST
@staff_required
def notification_read_all(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    count = notifications_mark_all_read(actor=request.actor)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return _back_to_list(request, tenant_slug)


def _back_to_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    response = redirect("notifications-list", tenant_slug=tenant_slug)
    page = whole_number(request.POST.get("page", ""), max_digits=6)
    if page is not None:
        response["Location"] += f"?page={page}"
    return response


@admin_required
def dead_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """Notifications of any channel that failed for good, newest first, each with a Retry."""
    rows = (
        Notification.objects.for_tenant(request.tenant)
        .filter(status=NotificationStatus.DEAD)
        .select_related("incident", "endpoint")
        .order_by("-created_at", "-id")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "escalation/dead_list.html", {"page": page})


@require_POST
@admin_required
def dead_retry(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    notification = get_object_or_404(
        Notification.objects.for_tenant(request.tenant), pk=pk, status=NotificationStatus.DEAD
    )
    notification_retry(notification=notification)
    messages.success(request, f"Sending “{notification.subject}” again to {notification.address}.")
    target = request.POST.get("next", "")
    if _inside_tenant(request, target, f"/t/{tenant_slug}/settings/"):
        return redirect(target)
    return redirect("settings-notifications-dead", tenant_slug=tenant_slug)
