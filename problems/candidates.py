"""Candidate problems: recurring incidents that no problem holds yet.

The incidents of the last 30 days that are not linked to a problem, not cancelled and not a
child of a major incident (the major incident already groups those) are grouped by category and
similar title. Two titles are similar when their trigram similarity is at least SIMILAR, as
pg_trgm's similarity() counts it: the distinct trigrams both share over those either has
(lower case, words of letters and digits, each padded with two spaces before and one after).
Digits are dropped first, so "Printer 3 jams" and "Printer 7 jams" are the same fault.

How, and why so (measured at 200,000 incidents, 20,000 of them in the last 30 days; see
bench/candidates_bench.py and docs/problems.md, "Candidates"):
- One query reads the window, newest first, along the index incident_history (tenant,
  reported_at, id), and stops after READ_LIMIT rows: 10 ms for 3,000. The page says when that
  cut the window.
- Clustering compares the window's titles with each other, which no index on the table serves:
  a GIN trigram index answers "titles like this one" from the tenant's whole history (35 ms a
  probe here, 71 s for a 2,000-row self-join), and pg_trgm's similarity() over every pair of
  2,000 titles took 450 ms. So the trigrams are cut here (the same sets as pg_trgm's
  show_trgm(), which a PostgreSQL test checks; in the database it cost twice as long), and
  the pairs worth comparing come from an inverted index of trigrams (see _group). One code
  path on PostgreSQL and SQLite alike.
- Clusters form around leaders, biggest first: each title joins the most similar leader of its
  category, or leads a new cluster. Unlike chaining similar pairs, this keeps "printer jams"
  and "scanner jams" apart even when a title in between resembles both.
"""

from __future__ import annotations

import gc
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db.models import Exists, OuterRef
from django.utils import timezone

from incidents.models import Incident, IncidentContact, IncidentState, Participant
from incidents.models.incident import format_reference
from problems.models import ProblemLink
from tenancy.models import Tenant

WINDOW_DAYS = 30
SIMILAR = 0.5
# Three in a month is a pattern; two similar titles happen by chance (two people hit by the same
# printer jam on one morning) and would fill the page with pairs.
MIN_SIZE = 3
READ_LIMIT = 3000
LIMIT = 50
SHOWN = 5  # incident numbers a row shows; the create button takes them all
_DIGITS = re.compile(r"[0-9]+")
_WORDS = re.compile(r"[^\W_]+")  # letters and digits, as pg_trgm's words


@dataclass
class Cluster:
    category_id: int | None
    category: str
    # The title its incidents give most often; of equals the shortest (a site or a ticket number
    # makes titles longer), then the newest.
    title: str
    count: int
    first_reported: datetime
    last_reported: datetime
    # People affected, as the problem page counts them: distinct reporters, affected members
    # and contacts.
    affected: int
    numbers: list[int]  # every incident of the cluster, newest first

    @property
    def shown(self) -> list[tuple[int, str]]:
        return [(n, format_reference(n)) for n in self.numbers[:SHOWN]]

    @property
    def more(self) -> int:
        return max(self.count - SHOWN, 0)

    @property
    def numbers_text(self) -> str:
        return ",".join(map(str, self.numbers))


@dataclass
class Candidates:
    clusters: list[Cluster]
    since: datetime  # the window's start
    read: int  # incidents read
    # When READ_LIMIT cut the window: the oldest incident read (older ones were not compared).
    cut_at: datetime | None = None
    more_clusters: int = 0  # clusters beyond `limit`


class _Row(NamedTuple):
    id: int
    number: int
    title: str
    category_id: int | None
    reported_at: datetime
    category: str | None
    trigrams: frozenset[str]
    reporter_id: int | None
    contact_email: str  # the reporter's address when they are not a member


@dataclass
class _Variant:
    """The window's incidents of one category whose titles have the same trigrams."""

    category_id: int | None
    trigrams: frozenset[str]
    rows: list[_Row] = field(default_factory=list)


def title_trigrams(title: str, words: dict[str, tuple[str, ...]] | None = None) -> frozenset[str]:
    """pg_trgm's trigrams of the title with its digits dropped; `words` caches each word's."""
    words = {} if words is None else words
    grams: set[str] = set()
    for word in _WORDS.findall(_DIGITS.sub(" ", title).lower()):
        found = words.get(word)
        if found is None:
            padded = f"  {word} "
            found = words[word] = tuple(padded[k : k + 3] for k in range(len(padded) - 2))
        grams.update(found)
    return frozenset(grams)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared) if shared else 0.0


def problem_candidates(
    *,
    tenant: Tenant,
    now: datetime | None = None,
    days: int = WINDOW_DAYS,
    limit: int = LIMIT,
    min_size: int = MIN_SIZE,
    read_limit: int = READ_LIMIT,
) -> Candidates:
    """The clusters of recurring, unlinked incidents of the last `days`, biggest first."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    with _cyclic_gc_paused():
        return _candidates(tenant, since, now, limit, min_size, read_limit)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """The clustering makes tens of thousands of small containers, none of them in a cycle, and
    reference counting frees them all when it ends. Left on, the cyclic collector promotes them
    and so walks every object of the process once every few pages: 80 ms at 200,000 incidents,
    which was the page's p95. Another thread's collection only waits until this ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _candidates(
    tenant: Tenant, since: datetime, now: datetime, limit: int, min_size: int, read_limit: int
) -> Candidates:
    rows = _window(tenant, since, now, read_limit + 1)  # one more: was the window cut?
    cut_at = None
    if len(rows) > read_limit:
        rows = rows[:read_limit]
        cut_at = rows[-1].reported_at
    groups = [
        [row for variant in members for row in variant.rows] for members in _group(_variants(rows))
    ]
    groups = [g for g in groups if len(g) >= min_size]
    # Biggest first; of equal size, the one seen last most recently.
    groups.sort(key=lambda g: (-len(g), -max(r.reported_at for r in g).timestamp()))
    shown = groups[:limit]
    people = _people(tenant, [row for group in shown for row in group])
    return Candidates(
        clusters=[_cluster(group, people) for group in shown],
        since=since,
        read=len(rows),
        cut_at=cut_at,
        more_clusters=max(len(groups) - limit, 0),
    )


def _window(tenant: Tenant, since: datetime, now: datetime, limit: int) -> list[_Row]:
    """The window's incidents, newest first: one index range scan that stops after `limit`."""
    linked = ProblemLink.objects.for_tenant(tenant).filter(incident=OuterRef("pk"))
    incidents = (
        Incident.objects.for_tenant(tenant)
        .filter(reported_at__gte=since, reported_at__lte=now, parent__isnull=True)
        .exclude(state=IncidentState.CANCELLED)
        .filter(~Exists(linked))
        .order_by("-reported_at", "-id")
        .values_list(
            "id",
            "number",
            "title",
            "category_id",
            "reported_at",
            "category__name",
            "reporter_id",
            "contact_email",
        )
    )
    words: dict[str, tuple[str, ...]] = {}  # titles repeat their words: each is cut up once
    return [
        _Row(pk, number, title, category, at, name, title_trigrams(title, words), user, email)
        for pk, number, title, category, at, name, user, email in incidents[:limit]
    ]


def _people(tenant: Tenant, rows: list[_Row]) -> dict[int, set[str]]:
    """Who each incident shown affects, as the problem page counts them: its reporter (a member,
    or a contact by address), its affected members and contacts. Two queries for the page."""
    people: dict[int, set[str]] = {}
    for row in rows:
        reporter = f"u{row.reporter_id}" if row.reporter_id else f"c{row.contact_email.lower()}"
        people[row.id] = {reporter} if row.reporter_id or row.contact_email else set()
    members = Participant.objects.for_tenant(tenant).filter(incident_id__in=list(people))
    for incident_id, user_id in members.values_list("incident_id", "user_id"):
        people[incident_id].add(f"u{user_id}")
    contacts = IncidentContact.objects.for_tenant(tenant).filter(incident_id__in=list(people))
    for incident_id, email in contacts.values_list("incident_id", "email"):
        people[incident_id].add(f"c{email}")
    return people


def _variants(rows: list[_Row]) -> list[_Variant]:
    """Same category and same trigrams (similarity 1), the most frequent first; a title without
    a letter or digit has no trigrams and resembles nothing."""
    variants: dict[tuple[int | None, frozenset[str]], _Variant] = {}
    for row in rows:
        if row.trigrams:
            key = (row.category_id, row.trigrams)
            variants.setdefault(key, _Variant(*key)).rows.append(row)
    # Stable: among equals the newest (first read) leads.
    return sorted(variants.values(), key=lambda v: -len(v.rows))


def _group(variants: list[_Variant]) -> list[list[_Variant]]:
    """Each variant joins the most similar leader of its category (SIMILAR or more), or leads.

    The leaders worth comparing come from an inverted index with the prefix filter of exact
    set similarity joins (Chaudhuri et al.; Xiao et al.): with trigrams in one global order,
    rarest first, two sets as similar as SIMILAR share one of the first len - ceil(SIMILAR *
    len) + 1 trigrams of each. So leaders are indexed by that prefix only, a variant probes
    with its own, and only the leaders found are compared. Trigrams become their rank in that
    order, and a set is an integer with those bits set: comparing two is an AND and a count.
    """
    frequency = Counter(g for v in variants for g in v.trigrams)
    order = sorted(frequency, key=lambda g: (frequency[g], g))
    rank = {g: k for k, g in enumerate(order)}
    bit = {g: 1 << k for k, g in enumerate(order)}
    # Per category: a trigram's rank -> the leaders whose prefix holds it.
    indexes: dict[int | None, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    groups: list[list[_Variant]] = []
    leaders: list[tuple[int, int]] = []  # (bits, size)
    for variant in variants:
        ranks = sorted(map(rank.__getitem__, variant.trigrams))
        size = len(ranks)
        mine = 0
        for gram in variant.trigrams:
            mine |= bit[gram]
        prefix = ranks[: size - math.ceil(SIMILAR * size) + 1]
        index = indexes[variant.category_id]
        found: set[int] = set()
        for gram_rank in prefix:
            if posting := index.get(gram_rank):
                found.update(posting)
        best, best_score = -1, 0.0
        for leader in sorted(found):  # the earlier (bigger) leader wins a tie
            theirs, their_size = leaders[leader]
            shared = (mine & theirs).bit_count()
            score = shared / (size + their_size - shared)
            if score >= SIMILAR and score > best_score:
                best, best_score = leader, score
        if best >= 0:
            groups[best].append(variant)
            continue
        groups.append([variant])
        leaders.append((mine, size))
        for gram_rank in prefix:
            index[gram_rank].append(len(groups) - 1)
    return groups


def _cluster(rows: list[_Row], people: dict[int, set[str]]) -> Cluster:
    rows = sorted(rows, key=lambda r: r.reported_at, reverse=True)
    titles = Counter(row.title for row in rows)  # newest first: the last tie-break
    return Cluster(
        category_id=rows[0].category_id,
        category=rows[0].category or "No category",
        title=min(titles, key=lambda t: (-titles[t], len(t))),
        count=len(rows),
        first_reported=rows[-1].reported_at,
        last_reported=rows[0].reported_at,
        affected=len(set().union(*(people[row.id] for row in rows))),
        numbers=[row.number for row in rows],
    )
