"""tenancy's /api/v1/ routes: the audit log."""

from django.urls import path

from tenancy.api import audit

urlpatterns = [
    path("audit/", audit.AuditListView.as_view(), name="api-audit"),
]
