"""`{% settings_areas as areas %}`: the settings areas for the sub-navigation of every settings
page (templates/tenancy/_settings_nav.html)."""

from __future__ import annotations

from django import template

from tenancy.settings_areas import settings_areas as areas_for

register = template.Library()


@register.simple_tag(takes_context=True)
def settings_areas(context: template.Context) -> list[dict[str, object]]:
    request = context["request"]
    match = request.resolver_match
    return areas_for(context["tenant"].slug, match.url_name if match else "")
