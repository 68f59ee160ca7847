"""mail's tenant settings under /t/<slug>/settings/: intake addresses, the policy for unknown
senders, and the messages received."""

from django.urls import path

from mail.views import settings_inbound, settings_intake

urlpatterns = [
    path("mail/", settings_intake.intake_list, name="settings-mail"),
    path("mail/new/", settings_intake.intake_create, name="settings-mail-intake-create"),
    path("mail/<int:pk>/", settings_intake.intake_edit, name="settings-mail-intake-edit"),
    path(
        "mail/<int:pk>/deactivate/",
        settings_intake.intake_activation,
        {"active": False},
        name="settings-mail-intake-deactivate",
    ),
    path(
        "mail/<int:pk>/reactivate/",
        settings_intake.intake_activation,
        {"active": True},
        name="settings-mail-intake-reactivate",
    ),
    path("mail/policy/", settings_intake.policy_edit, name="settings-mail-policy"),
    path("mail/messages/", settings_inbound.inbound_list, name="settings-mail-messages"),
    path(
        "mail/messages/<int:pk>/",
        settings_inbound.inbound_detail,
        name="settings-mail-message-detail",
    ),
    path(
        "mail/messages/<int:pk>/retry/",
        settings_inbound.inbound_retry_view,
        name="settings-mail-message-retry",
    ),
]
