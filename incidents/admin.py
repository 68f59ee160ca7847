from django.contrib import admin

from incidents.models import (
    AssignmentGroup,
    Category,
    Incident,
    IncidentEvent,
    PriorityLevel,
    ResolutionCode,
)
from tenancy.view_only_admin import ViewOnlyAdmin


@admin.register(Incident)
class IncidentAdmin(ViewOnlyAdmin):
    """State changes go through the services, never through this form."""

    list_display = ["reference", "tenant", "title", "state", "priority", "assignee", "reported_at"]
    list_filter = ["tenant", "state", "priority_rank"]
    search_fields = ["title", "number"]
    list_select_related = ["tenant", "priority", "assignee"]


@admin.register(IncidentEvent)
class IncidentEventAdmin(ViewOnlyAdmin):
    """The audit trail: never edited or deleted."""

    list_display = ["incident", "tenant", "kind", "transition", "actor_name", "created_at"]
    list_filter = ["tenant", "kind"]


for model in (AssignmentGroup, Category, PriorityLevel, ResolutionCode):
    admin.site.register(
        model, ViewOnlyAdmin, list_display=["__str__", "tenant"], list_filter=["tenant"]
    )
