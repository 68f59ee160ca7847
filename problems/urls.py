"""The problems pages, under /t/<slug>/problems/."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
