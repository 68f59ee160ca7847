from django.urls import path

from tenancy import settings_apikeys, settings_audit, settings_personal_data, settings_views

urlpatterns = [
    path("", settings_views.settings_home, name="settings-home"),
    path("general/", settings_views.general, name="settings-general"),
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
        "members/<int:pk>/unlock/",
        settings_views.member_status,
        {"change": "unlock"},
        name="settings-member-unlock",
    ),
    path(
        "members/<int:pk>/two-factor-reset/",
        settings_views.member_mfa_reset,
        name="settings-member-mfa-reset",
    ),
    path(
        "members/<int:pk>/personal-data/",
        settings_personal_data.personal_data,
        name="settings-member-personal-data",
    ),
    path(
        "members/<int:pk>/personal-data/export/",
        settings_personal_data.personal_data_export,
        name="settings-member-personal-data-export",
    ),
    path(
        "members/<int:pk>/personal-data/erase/",
        settings_personal_data.personal_data_erase,
        name="settings-member-personal-data-erase",
    ),
    path(
        "invitations/<int:pk>/revoke/",
        settings_views.invitation_revoke,
        name="settings-invitation-revoke",
    ),
    path("api-keys/", settings_apikeys.api_keys, name="settings-api-keys"),
    path("audit/", settings_audit.audit_log, name="settings-audit"),
    path(
        "api-keys/<int:pk>/rotate/",
        settings_apikeys.api_key_rotate_view,
        name="settings-api-key-rotate",
    ),
    path(
        "api-keys/<int:pk>/revoke/",
        settings_apikeys.api_key_revoke_view,
        name="settings-api-key-revoke",
    ),
]
