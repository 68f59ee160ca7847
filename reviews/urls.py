"""The reviews pages, under /t/<slug>/reviews/. A review is named by its incident's number."""

from django.urls import path

from reviews import views

urlpatterns = [
    path("", views.review_list, name="reviews-review-list"),
    path("start/<int:number>/", views.review_start, name="reviews-review-start"),
    path("dashboard/", views.dashboard_panel, name="reviews-dashboard"),
    path("actions/<int:pk>/done/", views.action_done, name="reviews-action-done"),
    path("<int:number>/", views.review_detail, name="reviews-review-detail"),
    path("<int:number>/edit/", views.review_edit, name="reviews-review-edit"),
    path("<int:number>/publish/", views.review_publish, name="reviews-review-publish"),
    path("<int:number>/export.md", views.review_export, name="reviews-review-export"),
    path("<int:number>/timeline/", views.entry_add, name="reviews-entry-add"),
    path("<int:number>/timeline/<int:pk>/", views.entry_edit, name="reviews-entry-edit"),
    path("<int:number>/timeline/<int:pk>/remove/", views.entry_remove, name="reviews-entry-remove"),
    path("<int:number>/actions/", views.action_add, name="reviews-action-add"),
    path(
        "<int:number>/actions/<int:pk>/remove/", views.action_remove, name="reviews-action-remove"
    ),
]
