"""Helpers shared by the settings page tests (tests/incidents/test_settings_*.py)."""

from __future__ import annotations

import re

from django.urls import reverse

from incidents import services
from incidents.models import Incident
from tenancy.models import Tenant


def url(name: str, *args: object, tenant: str = "acme") -> str:
    return reverse(name, args=[tenant, *args])


def page_text(response) -> str:
    """The page as a person reads it: tags dropped, whitespace folded."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def input_value(response, name: str) -> str | None:
    """The value an <input> or <textarea> shows, or the selected option of a <select>."""
    html = response.content.decode()
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    if tag:
        value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
        return value.group(1) if value else ""
    area = re.search(rf'<textarea[^>]*\bname="{re.escape(name)}"[^>]*>(.*?)</textarea>', html, re.S)
    if area:
        return area.group(1).strip()
    select = re.search(rf'<select[^>]*\bname="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    if select:
        picked = re.search(r'<option value="([^"]*)"[^>]*\bselected\b', select.group(1))
        return picked.group(1) if picked else ""
    return None


def checked_values(response, name: str) -> set[str]:
    html = response.content.decode()
    tags = re.findall(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    # A lone checkbox carries no value attribute: the browser then sends "on".
    return {
        m.group(1) if (m := re.search(r'\bvalue="([^"]*)"', tag)) else "on"
        for tag in tags
        if re.search(r"\schecked\b", tag)
    }


def report(actor, title: str = "Printer on fire", **kw) -> Incident:
    return services.incident_report(actor=actor, title=title, **kw)


def cells_of(tenant: Tenant) -> dict[str, dict[str, str]]:
    matrix = services.priority.matrix_for(tenant)
    return {i: {u: level.slug for u, level in row.items()} for i, row in matrix.items()}
