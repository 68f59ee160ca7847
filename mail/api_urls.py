"""mail's /api/v1/ routes: intake addresses, the policy for unknown senders, received mail."""

from django.urls import path

from mail.api import views

urlpatterns = [
    path(
        "mail/intake-addresses/",
        views.IntakeAddressListView.as_view(),
        name="api-mail-intake-addresses",
    ),
    path(
        "mail/intake-addresses/<int:pk>/",
        views.IntakeAddressDetailView.as_view(),
        name="api-mail-intake-address",
    ),
    path("mail/policy/", views.MailPolicyView.as_view(), name="api-mail-policy"),
    path("mail/messages/", views.InboundMailListView.as_view(), name="api-mail-messages"),
    path(
        "mail/messages/<int:pk>/retry/",
        views.InboundMailRetryView.as_view(),
        name="api-mail-message-retry",
    ),
]
