"""The imports page, included under /t/<slug>/settings/."""

from django.urls import path

from imports import views

urlpatterns = [
    path("imports/", views.imports, name="settings-imports"),
    path("imports/<int:pk>/", views.import_detail, name="settings-import-detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="settings-import-progress"),
]
