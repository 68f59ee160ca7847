"""The tenant admin's configuration pages, included under /t/<slug>/settings/."""

from django.urls import path

from incidents.intake import settings_views as intake
from incidents.settings import canned, matrix, views

urlpatterns = [
    path("integrations/", intake.integration_list, name="settings-integrations"),
    path("integrations/log/", intake.alert_log, name="settings-integration-log"),
    path("integrations/<int:pk>/", intake.integration_edit, name="settings-integration-edit"),
    path(
        "integrations/<int:pk>/rotate/",
        intake.integration_rotate,
        name="settings-integration-rotate",
    ),
    path("groups/", views.group_list, name="settings-groups"),
    path("groups/new/", views.group_create, name="settings-group-create"),
    path("groups/<int:pk>/", views.group_edit, name="settings-group-edit"),
    path("categories/", views.category_list, name="settings-categories"),
    path("categories/new/", views.category_create, name="settings-category-create"),
    path("categories/<int:pk>/", views.category_edit, name="settings-category-edit"),
    path(
        "categories/<int:pk>/deactivate/",
        views.category_activation,
        {"active": False},
        name="settings-category-deactivate",
    ),
    path(
        "categories/<int:pk>/reactivate/",
        views.category_activation,
        {"active": True},
        name="settings-category-reactivate",
    ),
    path("resolution-codes/", views.resolution_code_list, name="settings-resolution-codes"),
    path(
        "resolution-codes/<int:pk>/",
        views.resolution_code_rename,
        name="settings-resolution-code-rename",
    ),
    path(
        "resolution-codes/<int:pk>/deactivate/",
        views.resolution_code_activation,
        {"active": False},
        name="settings-resolution-code-deactivate",
    ),
    path(
        "resolution-codes/<int:pk>/reactivate/",
        views.resolution_code_activation,
        {"active": True},
        name="settings-resolution-code-reactivate",
    ),
    path("matrix/", matrix.matrix_edit, name="settings-matrix"),
    path(
        "canned-responses/",
        canned.canned_list,
        {"personal": False},
        name="settings-canned-responses",
    ),
    path(
        "canned-responses/<int:pk>/",
        canned.canned_edit,
        {"personal": False},
        name="settings-canned-response-edit",
    ),
    path(
        "canned-responses/<int:pk>/delete/",
        canned.canned_delete,
        {"personal": False},
        name="settings-canned-response-delete",
    ),
    path(
        "my-canned-responses/",
        canned.canned_list,
        {"personal": True},
        name="settings-my-canned-responses",
    ),
    path(
        "my-canned-responses/<int:pk>/",
        canned.canned_edit,
        {"personal": True},
        name="settings-my-canned-response-edit",
    ),
    path(
        "my-canned-responses/<int:pk>/delete/",
        canned.canned_delete,
        {"personal": True},
        name="settings-my-canned-response-delete",
    ),
]
