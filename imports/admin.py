from django.contrib import admin

from imports.models import ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Read-only for platform operators: tenants import from their settings page."""

    list_display = [
        "source_name", "tenant", "state", "incidents_created", "events_created",
        "rows_skipped", "disagreements", "created_at", "finished_at",
    ]  # fmt: skip
    list_filter = ["tenant", "state", "format"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]
