"""The knowledge pages, under /t/<slug>/knowledge/."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
