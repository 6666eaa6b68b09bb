"""Query-string filters of list views, as django-filter FilterSets (the default filter backend)."""

import django_filters
from django import forms

from sorting.models import Bin, Drop


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number, never a decimal that would be truncated to some other row's id."""

    field_class = forms.IntegerField


class BinFilter(django_filters.FilterSet):
    community = IdFilter(field_name="community_id", min_value=1)

    class Meta:
        model = Bin
        fields = ["community"]


class DropFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Drop.Status.choices)

    class Meta:
        model = Drop
        fields = ["status"]


class LabelSheetFilter(django_filters.FilterSet):
    community = IdFilter(field_name="community_id", required=True, min_value=1)

    class Meta:
        model = Bin
        fields = ["community"]
