import django_filters
from django.db.models import Q, QuerySet

from incidents.models import Incident, IncidentState
from incidents.serializers import parse_number


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
        value = value.strip()
        if not value:
            return queryset
        match = Q(title__icontains=value) | Q(description__icontains=value)
        # An imported incident is found by its number in the tool it came from (INC0000045).
        match |= Q(source_number__iexact=value)
        number = parse_number(value)
        if number is not None:
            match |= Q(number=number)
        return queryset.filter(match)
