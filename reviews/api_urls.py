"""The reviews API, under /api/v1/. A review is named by its incident's number."""

from django.urls import path

from reviews import api

R = "reviews/<str:number>/"

urlpatterns = [
    path("reviews/", api.ReviewListView.as_view(), name="api-review-list"),
    path(R, api.ReviewDetailView.as_view(), name="api-review-detail"),
    path(f"{R}publish/", api.ReviewPublishView.as_view(), name="api-review-publish"),
    path(f"{R}timeline/", api.TimelineView.as_view(), name="api-review-timeline"),
    path(f"{R}timeline/<str:pk>/", api.TimelineEntryView.as_view(), name="api-review-entry"),
    path(f"{R}actions/", api.ActionsView.as_view(), name="api-review-actions"),
    path(f"{R}actions/<str:pk>/", api.ActionView.as_view(), name="api-review-action"),
    path(f"{R}actions/<str:pk>/done/", api.ActionDoneView.as_view(), name="api-review-action-done"),
]
