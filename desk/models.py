"""The desk's own rows: an agent's saved views (named filters shown among the queue tabs)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from tenancy.models import TenantOwned

SAVED_VIEW_NAME_MAX = 60


class SavedView(TenantOwned):
    """A queue with its filters and search, named by the agent who saved it and seen by them
    only, in the tenant they saved it in."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=SAVED_VIEW_NAME_MAX)
    # The queue page's query string (queue, filters, search), without paging.
    query = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One name once per agent and tenant, whatever its case: two tabs called "VPN" and
            # "vpn" could not be told apart. Also the index of the agent's tabs.
            models.UniqueConstraint(
                "tenant", "user", Lower("name"), name="desk_savedview_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name
