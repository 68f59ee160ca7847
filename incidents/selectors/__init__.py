"""Reads of incidents every layer above may ask: one incident as an actor may see it, its files,
search, and what a requester may see."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import BigIntegerField, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.http import Http404

from incidents.models import Attachment, Incident, Participant
from tenancy.actors import Actor
from tenancy.models import Tenant, User

SEARCH_CONFIG = "english"  # must match migration 0004_incident_search

REFERENCE = re.compile(r"^\s*(?:inc-?|#)?0*(\d{1,9})\s*$", re.IGNORECASE)
WORD = re.compile(r"\w+", re.UNICODE)


def search_vector() -> SearchVector:
    """The document searched; migration 0004 indexes exactly this expression."""
    return SearchVector("title", "description", config=SEARCH_CONFIG)


def apply_search(
    qs: QuerySet[Incident], text: str, *, tenant_id: int, by_number: Q | None = None
) -> QuerySet[Incident]:
    """Number, title and description. PostgreSQL: full-text search with prefix matching (so a
    half-typed word already matches), served by the GIN index; SQLite: LIKE on each word.

    `by_number` replaces the desk's reading of the text as a number (#42, INC42, INC0000042):
    the API reads numbers its own way, and matches imported incidents' source numbers too."""
    words = WORD.findall(text)[:8]
    if by_number is None:
        match = REFERENCE.match(text)
        by_number = Q(number=int(match.group(1))) if match else Q(pk__in=[])
    if not words:
        return qs.filter(by_number)
    if settings.IS_POSTGRES:
        raw = " & ".join(f"{w}:*" for w in words)
        query = SearchQuery(raw, search_type="raw", config=SEARCH_CONFIG)
        # The matches in a subquery: PostgreSQL then reads them through the GIN index first.
        # Inline, under the page's ORDER BY ... LIMIT, it walks the sort's index and computes
        # every row's tsvector until it has a page: 190 ms for a rare word at 20k incidents
        # (16 ms this way), and ten times that at 200k.
        # The tenant as a bigint: the index leads with tenant_id (btree_gin), whose operator
        # class compares bigints only, and a plain parameter arrives as an integer; without the
        # cast the index returns every tenant's matches for a filter to drop. (Not also as an
        # integer: PostgreSQL would keep that one of the two equal conditions.)
        tenant = Cast(Value(tenant_id), BigIntegerField())
        documents = Incident.objects.filter(tenant_id=tenant).alias(document=search_vector())
        matching = documents.filter(document=query).values("pk")
        return qs.filter(Q(pk__in=matching) | by_number)
    by_text = Q()
    for word in words:
        by_text &= Q(title__icontains=word) | Q(description__icontains=word)
    return qs.filter(by_text | by_number)


def incidents_reported_or_joined(*, tenant: Tenant | int, user: User | int) -> QuerySet[Incident]:
    """What a requester may see of a tenant: the incidents they reported or joined. The portal
    and the API both ask this; everything else is a 404 to them."""
    joined = Participant.objects.for_tenant(tenant).filter(user=user).values("incident_id")
    return Incident.objects.for_tenant(tenant).filter(Q(reporter=user) | Q(pk__in=joined))


# --- One incident, as the actor may see it -------------------------------------------------
INCIDENT_RELATED = ("priority", "category", "group", "assignee", "reporter", "resolution_code")


def incidents_for_actor(*, actor: Actor, own: bool = False) -> QuerySet[Incident]:
    """What the actor may see of its tenant: a requester the incidents they reported or joined,
    the desk (staff, integrations) all of them. `own`: only those they reported or joined,
    whatever their role (the portal is everyone's own view)."""
    if actor.is_requester or own:
        if actor.user_id is None:  # no person (an integration or the system): nothing is theirs
            return Incident.objects.none()
        return incidents_reported_or_joined(tenant=actor.tenant, user=actor.user_id)
    return Incident.objects.for_tenant(actor.tenant)


def incident_for_actor(
    *,
    actor: Actor,
    number: int | None,
    own: bool = False,
    related: tuple[str, ...] = (),
    annotate: dict[str, Any] | None = None,
) -> Incident:
    """The incident of that number, if the actor may see it; Http404 otherwise. A missing
    number, another tenant's incident and one a requester may not see get the same answer, so
    none of them tells that it exists. Every page and the API find their incident here."""
    incident = None
    if number is not None:
        found = incidents_for_actor(actor=actor, own=own)
        found = found.select_related(*INCIDENT_RELATED, *related)
        incident = found.annotate(**(annotate or {})).filter(number=number).first()
    if incident is None:
        raise Http404("No such incident here.")
    return incident


def attachments_visible_to(
    *, actor: Actor, incident: Incident, public_only: bool = False
) -> QuerySet[Attachment]:
    """The incident's files the actor may open: the desk all of them; a requester (or any page
    that shows what a requester sees: `public_only`) the public ones, never a file of an
    internal note."""
    files = Attachment.objects.for_tenant(actor.tenant).filter(incident=incident)
    if actor.is_requester or public_only:
        files = files.filter(Q(comment__isnull=True) | Q(comment__public=True), public=True)
    return files
