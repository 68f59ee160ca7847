"""A public page with a token that tests/test_public_pages.py has no genuine link for."""

from django.urls import path

from servicedesk import urls as desk_urls
from tests.leaky_urls import leaky_token

urlpatterns = [
    path("t/<slug:tenant_slug>/leak/<str:token>/", leaky_token, name="leaky-token"),
    *desk_urls.urlpatterns,
]
