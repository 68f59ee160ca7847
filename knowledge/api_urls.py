"""The knowledge API, under /api/v1/."""

from django.urls import path

from knowledge import api

A = "articles/<str:pk>/"

urlpatterns = [
    path("articles/", api.ArticleListView.as_view(), name="api-article-list"),
    path(A, api.ArticleDetailView.as_view(), name="api-article-detail"),
    path(f"{A}publish/", api.ArticlePublishView.as_view(), name="api-article-publish"),
    path(f"{A}retire/", api.ArticleRetireView.as_view(), name="api-article-retire"),
    path(f"{A}versions/", api.ArticleVersionsView.as_view(), name="api-article-versions"),
]
