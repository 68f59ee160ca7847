from django.contrib import admin, messages

from escalation.models import Notification, NotificationStatus
from escalation.services import notification_retry
from tenancy.view_only_admin import ViewOnlyAdmin


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["kind", "tenant", "address", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["tenant", "status", "channel", "kind"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["retry_failed"]

    @admin.action(description="Retry the selected failed notifications")
    def retry_failed(self, request, queryset) -> None:
        dead = list(queryset.filter(status=NotificationStatus.DEAD))
        for notification in dead:
            notification_retry(notification=notification)
        self.message_user(
            request,
            f"{len(dead)} failed notification(s) will be sent again.",
            messages.SUCCESS if dead else messages.WARNING,
        )


# --- SLA: views for platform operators; tenants change these on their settings pages.
from escalation.models import (  # noqa: E402
    BusinessCalendar,
    EscalationPolicy,
    EscalationRun,
    SlaAlert,
    SlaClock,
    SlaPolicy,
)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ViewOnlyAdmin):
    list_display = ["name", "tenant", "time_zone", "always_open", "holiday_country", "is_default"]
    list_filter = ["tenant"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ViewOnlyAdmin):
    list_display = ["priority", "tenant", "response_seconds", "resolution_seconds", "calendar"]
    list_filter = ["tenant"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(ViewOnlyAdmin):
    list_display = ["name", "tenant", "group", "repeat_count", "is_active"]
    list_filter = ["tenant"]


@admin.register(SlaClock)
class SlaClockAdmin(ViewOnlyAdmin):
    list_display = ["incident", "metric", "tenant", "state", "due_at", "next_check_at"]
    list_filter = ["tenant", "state", "metric"]
    raw_id_fields = ["incident"]


@admin.register(EscalationRun)
class EscalationRunAdmin(ViewOnlyAdmin):
    list_display = ["incident", "tenant", "state", "level", "repeat", "next_check_at"]
    list_filter = ["tenant", "state"]


@admin.register(SlaAlert)
class SlaAlertAdmin(ViewOnlyAdmin):
    list_display = ["kind", "incident_id", "tenant", "threshold", "level", "due_at", "notified_at"]
    list_filter = ["tenant", "kind"]
