"""The areas of the tenant settings, in the order Settings lists them: the settings home's
sections and the one sub-navigation every settings page of every app includes
(templates/tenancy/_settings_nav.html).

Each area names the URL of its first page and the URL-name prefixes of all its pages, so the
navigation can mark where the admin is. Other apps add pages in parallel: an area whose URL name
does not resolve (yet) is left out rather than breaking every settings page."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Area:
    label: str
    url_name: str
    blurb: str
    # URL names of the area's pages start with one of these (its list, forms and actions).
    prefixes: tuple[str, ...] = ()


AREAS = [
    Area(
        "General",
        "settings-general",
        "Auto-close window of resolved incidents, audit log retention, time zone.",
    ),
    Area(
        "Members",
        "settings-members",
        "Invite people, change their roles, deactivate them.",
        ("settings-member", "settings-invitation"),
    ),
    Area(
        "Groups",
        "settings-groups",
        "Assignment groups, their members and leads.",
        ("settings-group",),
    ),
    Area(
        "Categories",
        "settings-categories",
        "Categories and the group each one routes to.",
        ("settings-categor",),
    ),
    Area(
        "Resolution codes",
        "settings-resolution-codes",
        "How agents classify a resolution.",
        ("settings-resolution-code",),
    ),
    Area("Priority matrix", "settings-matrix", "Impact x urgency, and the priority scale."),
    Area(
        "SLA targets",
        "escalation-policy-list",
        "Response and resolution targets of each priority.",
        ("escalation-policy",),
    ),
    Area(
        "Business calendars",
        "escalation-calendar-list",
        "Working hours and holidays SLA targets are counted in.",
        ("escalation-calendar",),
    ),
    Area(
        "Escalation policies",
        "escalation-escalation-list",
        "Who is alerted, level by level, while nobody acknowledges.",
        ("escalation-escalation",),
    ),
    Area(
        "Canned responses",
        "settings-canned-responses",
        "Reply templates agents insert in a reply or note.",
        ("settings-canned",),
    ),
    Area(
        "Email intake",
        "settings-mail",
        "Addresses that take mail and what they set.",
        ("settings-mail-intake",),
    ),
    Area(
        "Unknown senders",
        "settings-mail-policy",
        "What happens to mail from people who are not members.",
    ),
    Area(
        "Received mail",
        "settings-mail-messages",
        "Every message the intake took.",
        ("settings-mail-message",),
    ),
    Area(
        "API keys",
        "settings-api-keys",
        "Keys for integrations calling the REST API.",
        ("settings-api-key",),
    ),
    Area(
        "Integrations",
        "settings-integrations",
        "Alerts from Alertmanager, PagerDuty-compatible tools and JSON webhooks; their log.",
        ("settings-integration",),
    ),
    Area(
        "Webhooks",
        "settings-webhooks",
        "Signed JSON posts to your tools when incidents change.",
        ("settings-webhooks",),
    ),
    Area(
        "Failed notifications",
        "settings-notifications-dead",
        "Deliveries that failed; retry them.",
        ("settings-notifications",),
    ),
    Area(
        "Imports",
        "settings-imports",
        "Bring incident history from another tool (ServiceNow).",
        ("settings-import",),
    ),
    Area(
        "Single sign-on",
        "settings-sso",
        "Sign your people in with your identity provider (OpenID Connect).",
    ),
    Area(
        "Audit log",
        "settings-audit",
        "Who changed what and when, in words; filter it, download it as CSV.",
    ),
]


def _current(url_name: str) -> Area | None:
    """The area a page belongs to: the longest prefix wins (settings-mail-policy is not
    settings-mail)."""
    best: tuple[int, Area | None] = (0, None)
    for area in AREAS:
        for prefix in (area.url_name, *area.prefixes):
            if url_name.startswith(prefix) and len(prefix) > best[0]:
                best = (len(prefix), area)
    return best[1]


def settings_areas(tenant_slug: str, url_name: str = "") -> list[dict[str, object]]:
    """The areas that exist, each with its URL and whether the page `url_name` is in it."""
    current = _current(url_name) if url_name else None
    areas = []
    for area in AREAS:
        try:
            url = reverse(area.url_name, kwargs={"tenant_slug": tenant_slug})
        except NoReverseMatch:
            continue
        areas.append(
            {"label": area.label, "url": url, "blurb": area.blurb, "current": area is current}
        )
    return areas
