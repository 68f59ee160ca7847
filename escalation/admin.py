from django.contrib import admin, messages

from escalation.models import Notification, NotificationStatus
from escalation.services import notification_retry


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
