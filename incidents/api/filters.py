import django_filters
from django.db.models import Q, QuerySet

from incidents.api.serializers import parse_number
from incidents.models import Incident, IncidentState
from incidents.selectors import apply_search


class IncidentFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=IncidentState.choices)
    priority = django_filters.CharFilter(field_name="priority__slug")
    group = django_filters.CharFilter(field_name="group__slug")
    assignee = django_filters.CharFilter(field_name="assignee__email", lookup_expr="iexact")
    category = django_filters.CharFilter(field_name="category__slug")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    q = django_filters.CharFilter(method="search", max_length=200)

    class Meta:
        model = Incident
        fields = ["state", "priority", "group", "assignee", "category", "updated_since", "q"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """The desk's full-text search (words, prefixes, the GIN index) with the API's numbers:
        INC-000042 or 42, and an imported incident's number in the tool it came from
        (INC0000045), which the desk would read as our number 45."""
        value = value.strip()
        if not value:
            return queryset
        # Exact (as given, or upper-case as tools write them), so the unique index serves it
        # and the search can combine indexes; iexact would compare UPPER() of every row.
        by_number = Q(source_number__in={value, value.upper()})
        number = parse_number(value)
        if number is not None:
            by_number |= Q(number=number)
        tenant_id = self.request.actor.tenant.pk
        return apply_search(queryset, value, tenant_id=tenant_id, by_number=by_number)
