"""The reviews pages, under /t/<slug>/reviews/."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
