from django.contrib import admin

from escalation.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["kind", "tenant", "address", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["tenant", "status", "channel", "kind"]
    readonly_fields = [f.name for f in Notification._meta.fields]
