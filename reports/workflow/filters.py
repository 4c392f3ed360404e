"""Filters of reports and Table-1 values, shared by the pages and the API."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet

from institutions.models import Community, Institution, Territory
from metrics.choices import Indicator
from metrics.models import MetricValue
from portal.lib.months import parse_month
from reports.models import Report, ReportState


class MonthFormField(forms.CharField):
    """``YYYY-MM`` (or a full date) → the first day of that month."""

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_month(text)
        except ValueError as exc:
            raise forms.ValidationError("Месяц должен быть в виде ГГГГ-ММ.") from exc


class MonthFilter(django_filters.Filter):
    field_class = MonthFormField


class MonthRangeMixin(django_filters.FilterSet):
    month_from = MonthFilter(field_name="month", lookup_expr="gte", label="месяц с (ГГГГ-ММ)")
    month_to = MonthFilter(field_name="month", lookup_expr="lte", label="месяц по (ГГГГ-ММ)")


def _territories(request) -> QuerySet:
    return Territory.objects.visible_to(getattr(request, "user", None))


def _institutions(request) -> QuerySet:
    return Institution.objects.visible_to(getattr(request, "user", None))


def _communities(request) -> QuerySet:
    return Community.objects.visible_to(getattr(request, "user", None))


class ReportFilter(MonthRangeMixin):
    territory = django_filters.ModelChoiceFilter(
        field_name="institution__territory", queryset=_territories, label="территория"
    )
    institution = django_filters.ModelChoiceFilter(queryset=_institutions, label="учреждение")
    community = django_filters.ModelChoiceFilter(
        field_name="institution__communities", queryset=_communities, label="сообщество"
    )
    state = django_filters.MultipleChoiceFilter(choices=ReportState.choices, label="состояние")

    class Meta:
        model = Report
        fields = ["territory", "institution", "community", "state", "month_from", "month_to"]


class ValueFilter(MonthRangeMixin):
    territory = django_filters.ModelChoiceFilter(
        field_name="community__institution__territory", queryset=_territories,
        label="территория",
    )
    institution = django_filters.ModelChoiceFilter(
        field_name="community__institution", queryset=_institutions, label="учреждение"
    )
    community = django_filters.ModelChoiceFilter(queryset=_communities, label="сообщество")
    indicator = django_filters.MultipleChoiceFilter(choices=Indicator.choices,
                                                    label="показатель")
    state = django_filters.MultipleChoiceFilter(
        choices=ReportState.choices, method="filter_state", label="состояние отчёта"
    )

    class Meta:
        model = MetricValue
        fields = ["territory", "institution", "community", "indicator", "state", "month_from",
                  "month_to"]

    def filter_state(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        if not value:
            return queryset
        reports = Report.objects.filter(
            institution=OuterRef("community__institution"), month=OuterRef("month"),
            state__in=value,
        )
        if ReportState.DRAFT in value:
            missing = ~Exists(Report.objects.filter(
                institution=OuterRef("community__institution"), month=OuterRef("month")))
            return queryset.filter(Exists(reports) | missing)
        return queryset.filter(Exists(reports))


class ReportPageFilter(ReportFilter):
    """The report list page: a community dropdown of the whole region would be too long."""

    class Meta(ReportFilter.Meta):
        fields = ["territory", "institution", "state", "month_from", "month_to"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters.pop("community", None)
