from django.urls import include, path

from tenancy import settings_views

urlpatterns = [
    path("", settings_views.settings_home, name="settings-home"),
    path("members/", settings_views.members, name="settings-members"),
    path("members/<int:pk>/role/", settings_views.member_role, name="settings-member-role"),
    path(
        "members/<int:pk>/deactivate/",
        settings_views.member_status,
        {"change": "deactivate"},
        name="settings-member-deactivate",
    ),
    path(
        "members/<int:pk>/reactivate/",
        settings_views.member_status,
        {"change": "reactivate"},
        name="settings-member-reactivate",
    ),
    path(
        "invitations/<int:pk>/revoke/",
        settings_views.invitation_revoke,
        name="settings-invitation-revoke",
    ),
    path("sla/", include("escalation.settings_urls")),
]
