"""Django admin pages that operators read and never write."""

from __future__ import annotations

from django.contrib import admin


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows only the services write, which operators read here.

    A tenant's configuration (groups, categories, priority levels, resolution codes,
    calendars, SLA and escalation policies) is changed on the settings pages or through the
    API: both go through the services, which check a change, keep each tenant's matrix whole,
    and take the configuration lock that reports rely on (tenancy/config_stamp.py). SLA
    clocks, escalation runs and alerts move only with their incident. A save or delete here
    would do none of it."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
