from django.contrib import admin

from incidents.models import (
    AssignmentGroup,
    Category,
    Incident,
    IncidentEvent,
    PriorityLevel,
    ResolutionCode,
)
from servicedesk.view_only_admin import ViewOnlyAdmin


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Read-mostly: state changes go through the services, never through this form."""

    list_display = ["reference", "tenant", "title", "state", "priority", "assignee", "reported_at"]
    list_filter = ["tenant", "state", "priority_rank"]
    search_fields = ["title", "number"]
    readonly_fields = [f.name for f in Incident._meta.fields]
    list_select_related = ["tenant", "priority", "assignee"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(IncidentEvent)
class IncidentEventAdmin(admin.ModelAdmin):
    list_display = ["incident", "tenant", "kind", "transition", "actor_name", "created_at"]
    list_filter = ["tenant", "kind"]
    readonly_fields = [f.name for f in IncidentEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


for model in (AssignmentGroup, Category, PriorityLevel, ResolutionCode):
    admin.site.register(
        model, ViewOnlyAdmin, list_display=["__str__", "tenant"], list_filter=["tenant"]
    )
