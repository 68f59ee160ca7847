from django import template

from escalation.selectors.notifications import inbox_unread_count

register = template.Library()


@register.inclusion_tag("escalation/bell.html", takes_context=True)
def notification_bell(context: template.Context) -> dict:
    """The bell in the nav, counted as the page renders; it then refreshes itself by polling."""
    request = context["request"]
    return {"tenant": request.tenant, "unread": inbox_unread_count(actor=request.actor)}
