from django.urls import path

from incidents.api import alerts as api_alerts
from incidents.api import canned as api_canned
from incidents.api import config as api_config
from incidents.api import views as api
from incidents.api.serializers import TRANSITION_SERIALIZERS
from incidents.intake import api as intake
from incidents.intake import config_api as intake_config

N = "<str:number>"

urlpatterns = [
    path("incidents/", api.IncidentListView.as_view(), name="api-incident-list"),
    path(f"incidents/{N}/", api.IncidentDetailView.as_view(), name="api-incident-detail"),
    path(
        f"incidents/{N}/transitions/",
        api.TransitionListView.as_view(),
        name="api-incident-transitions",
    ),
    path(f"incidents/{N}/comments/", api.CommentListView.as_view(), name="api-incident-comments"),
    path(f"incidents/{N}/events/", api.EventListView.as_view(), name="api-incident-events"),
    path(
        f"incidents/{N}/attachments/",
        api.AttachmentListView.as_view(),
        name="api-incident-attachments",
    ),
    path(
        f"incidents/{N}/attachments/<int:attachment_id>/download/",
        api.AttachmentDownloadView.as_view(),
        name="api-incident-attachment-download",
    ),
    *[
        path(
            f"incidents/{N}/{action}/",
            api.transition_view(action).as_view(),
            name=f"api-incident-{action}",
        )
        for action in TRANSITION_SERIALIZERS
    ],
    path("alerts/", api_alerts.AlertIntakeView.as_view(), name="api-alerts"),
    path(
        "integrations/alertmanager/",
        intake.AlertmanagerView.as_view(),
        name="api-integration-alertmanager",
    ),
    path(
        "integrations/events/v2/enqueue",
        intake.PagerDutyEventsView.as_view(),
        name="api-integration-pagerduty",
    ),
    path(
        "integrations/webhook/<int:integration_id>/",
        intake.WebhookView.as_view(),
        name="api-integration-webhook",
    ),
    path("integrations/", intake_config.IntegrationListView.as_view(), name="api-integrations"),
    path(
        "integrations/<int:integration_id>/",
        intake_config.IntegrationDetailView.as_view(),
        name="api-integration",
    ),
    path(
        "integrations/<int:integration_id>/rotate-key/",
        intake_config.IntegrationRotateKeyView.as_view(),
        name="api-integration-rotate-key",
    ),
    path(
        "integrations/<int:integration_id>/log/",
        intake_config.IntegrationLogView.as_view(),
        name="api-integration-log",
    ),
    path("categories/", api_config.CategoryListView.as_view(), name="api-categories"),
    path("categories/<str:slug>/", api_config.CategoryDetailView.as_view(), name="api-category"),
    path("groups/", api_config.GroupListView.as_view(), name="api-groups"),
    path("groups/<str:slug>/", api_config.GroupDetailView.as_view(), name="api-group"),
    path(
        "resolution-codes/",
        api_config.ResolutionCodeListView.as_view(),
        name="api-resolution-codes",
    ),
    path(
        "resolution-codes/<str:slug>/",
        api_config.ResolutionCodeDetailView.as_view(),
        name="api-resolution-code",
    ),
    path("priority-matrix/", api_config.PriorityMatrixView.as_view(), name="api-priority-matrix"),
    path(
        "canned-responses/",
        api_canned.CannedResponseListView.as_view(),
        name="api-canned-responses",
    ),
    path(
        "canned-responses/<int:pk>/",
        api_canned.CannedResponseDetailView.as_view(),
        name="api-canned-response",
    ),
]
