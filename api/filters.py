"""Query-string filters of list views, as django-filter FilterSets (the default filter backend)."""

import django_filters

from sorting.models import Bin, Drop


class BinFilter(django_filters.FilterSet):
    community = django_filters.NumberFilter(field_name="community_id")

    class Meta:
        model = Bin
        fields = ["community"]


class DropFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Drop.Status.choices)

    class Meta:
        model = Drop
        fields = ["status"]


class LabelSheetFilter(django_filters.FilterSet):
    community = django_filters.NumberFilter(field_name="community_id", required=True, min_value=1)

    class Meta:
        model = Bin
        fields = ["community"]
