"""{% sla_clock_panel incident %}: the clock panel for the incident page.

Requesters get an empty panel: SLA internals are the desk's."""

from django import template

from escalation.selectors.sla import clocks_for_incident

register = template.Library()


@register.inclusion_tag("escalation/clock_panel.html", takes_context=True)
def sla_clock_panel(context, incident) -> dict:
    request = context.get("request")
    actor = getattr(request, "actor", None)
    if actor is None or not actor.is_agent_or_above:
        return {"incident": incident, "sla_clocks": [], "tenant": getattr(request, "tenant", None)}
    clocks = clocks_for_incident(incident, actor=actor, explain=True)
    return {"incident": incident, "sla_clocks": clocks, "tenant": request.tenant}


@register.filter
def seconds_words(value: int | None) -> str:
    """3600 -> '1 h': durations on the settings pages."""
    from datetime import timedelta

    from escalation.selectors.sla import duration_words

    return duration_words(timedelta(seconds=value or 0))
