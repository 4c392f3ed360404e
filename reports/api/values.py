"""API of Table-1 values: the scoped list, one value, and the bulk upsert.

Thin: parse, call ``reports.workflow.services``, serialize; the same scope and rules as the pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import cached_property
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import ISO_8601, api_settings

from institutions.models import Community
from metrics.choices import TABLE1_INDICATOR_CHOICES, Indicator, ValueSource
from metrics.models import MetricValue
from metrics.selectors import values_count
from portal.api import Pagination
from portal.errors import NotAllowed
from reports.api.workflow import MonthField
from reports.workflow import rules
from reports.workflow.filters import ValueFilter
from reports.workflow.services import ValueItem, values_bulk_upsert


class ValueSerializer(serializers.ModelSerializer):
    month = MonthField()
    institution = serializers.IntegerField(source="community.institution_id")
    # Blank until the networks were asked; the schema must allow "" as well as the sources.
    api_source = serializers.ChoiceField(choices=ValueSource.choices, allow_blank=True,
                                         read_only=True)

    class Meta:
        model = MetricValue
        fields = ["id", "community", "institution", "month", "indicator", "value", "source",
                  "api_value", "api_source", "api_collected_at", "is_confirmed", "updated_by",
                  "updated_at", "source_file"]
        read_only_fields = fields


class ValueItemSerializer(serializers.Serializer):
    community = serializers.IntegerField()
    month = MonthField()
    indicator = serializers.ChoiceField(choices=TABLE1_INDICATOR_CHOICES)
    value = serializers.JSONField(allow_null=True, help_text="целое ≥ 0 или null (не указано)")
    version = serializers.IntegerField(required=False, min_value=0,
                                       help_text="версия отчёта за месяц (0 — отчёта не было)")


class BulkSerializer(serializers.Serializer):
    values = ValueItemSerializer(many=True, allow_empty=False, max_length=5000)
    dry_run = serializers.BooleanField(required=False, default=False)
    source = serializers.ChoiceField(
        choices=[(ValueSource.MANUAL, "введено"), (ValueSource.IMPORT, "импорт")],
        required=False, default=ValueSource.MANUAL,
        help_text="«import» — прошлые данные из другой системы (источник «импорт»)")
    source_file = serializers.CharField(required=False, default="", allow_blank=True,
                                        max_length=200, help_text="откуда импорт: файл или система")


class ValueChangeSerializer(serializers.Serializer):
    """One cell a write changed (or, on a dry run, would change)."""

    community = serializers.IntegerField()
    month = serializers.CharField(help_text="ГГГГ-ММ")
    indicator = serializers.ChoiceField(choices=Indicator.choices)
    old = serializers.IntegerField(allow_null=True)
    new = serializers.IntegerField(allow_null=True)
    created = serializers.BooleanField()


class ReportVersionSerializer(serializers.Serializer):
    institution = serializers.IntegerField()
    month = serializers.CharField(help_text="ГГГГ-ММ")
    version = serializers.IntegerField()


class BulkAnswerSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    changed = serializers.IntegerField()
    changes = ValueChangeSerializer(many=True)
    versions = ReportVersionSerializer(many=True)


# The list reads plain rows: the serializer field each column feeds (the rest by field name).
VALUE_COLUMNS = {"community": "community_id", "institution": "community__institution_id",
                 "updated_by": "updated_by_id"}
# For values as the database returns them these fields' representation is the value itself.
_AS_STORED = (serializers.IntegerField, serializers.CharField, serializers.ChoiceField,
              serializers.BooleanField, serializers.RelatedField)


@dataclass(frozen=True)
class ValueRowShape:
    """How ``value_rows`` turns a database row into ``ValueSerializer``'s output."""

    keys: tuple[str, ...]
    columns: tuple[str, ...]
    renderers: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, the field's renderer)
    datetimes: tuple[int, ...]  # positions DRF writes as ISO 8601 in the current time zone


def _iso_in_current_zone(field: serializers.Field) -> bool:
    """A ``DateTimeField`` as configured by default (ISO 8601, the current time zone)."""
    return (type(field) is serializers.DateTimeField and not hasattr(field, "timezone")
            and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601)


@cache
def value_row_shape() -> ValueRowShape:
    """The shape read off ``ValueSerializer``'s fields, in their order."""
    fields = list(ValueSerializer().fields.items())
    datetimes = tuple(n for n, (_name, field) in enumerate(fields)
                      if settings.USE_TZ and _iso_in_current_zone(field))
    return ValueRowShape(
        keys=tuple(name for name, _field in fields),
        columns=tuple(VALUE_COLUMNS.get(name, name) for name, _field in fields),
        renderers=tuple((n, field.to_representation) for n, (_name, field) in enumerate(fields)
                        if not isinstance(field, _AS_STORED) and n not in datetimes),
        datetimes=datetimes,
    )


def value_rows(rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """``ValueSerializer(many=True).data`` for rows of ``values_list(*shape.columns)``.

    A page of the list skips a model instance and DRF's per-field lookups for each row. Months
    render through the serializer's own field; the stored (aware) times as DRF's
    ``DateTimeField`` writes them, with the time zone looked up once a page, not per value.
    """
    shape, zone = value_row_shape(), timezone.get_current_timezone()
    out = []
    for row in rows:
        values = list(row)
        for n, render in shape.renderers:
            if values[n] is not None:
                values[n] = render(values[n])
        for n in shape.datetimes:
            if values[n] is not None:
                text = values[n].astimezone(zone).isoformat()
                values[n] = text[:-6] + "Z" if text.endswith("+00:00") else text
        out.append(dict(zip(shape.keys, values, strict=True)))
    return out


class FiltersetOnView(DjangoFilterBackend):
    """django-filter's backend that leaves the bound filterset on the view (``filterset``).

    Without any of the filters' parameters it filters nothing, so it builds no filterset
    (``filterset`` is None) — that is most requests of a client walking the list.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        names = view.filterset_class.base_filters
        if not any(name in request.query_params for name in names):
            view.filterset = None
            return queryset
        return super().filter_queryset(request, queryset, view)

    def get_filterset(self, request: Request, queryset: QuerySet, view: Any):
        view.filterset = super().get_filterset(request, queryset, view)
        return view.filterset


class KnownCountPaginator(Paginator):
    """A paginator whose count may be given (``known_count``) rather than counted."""

    known_count: int | None = None

    @cached_property
    def count(self) -> int:
        return self.known_count if self.known_count is not None else super().count


class ValuePagination(Pagination):
    """Page numbers whose ``count`` the view may supply (``known_count``, set per request)."""

    known_count: int | None = None

    def django_paginator_class(self, object_list: Any, per_page: int) -> Paginator:
        paginator = KnownCountPaginator(object_list, per_page)
        paginator.known_count = self.known_count
        return paginator


# Filters that only narrow which communities are listed, as lookups on Community.
COMMUNITY_FILTERS = {"territory": "institution__territory_id", "institution": "institution_id",
                     "community": "pk"}


class ValueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Monthly indicator values within the caller's scope; bulk upsert of Table-1 figures."""

    serializer_class = ValueSerializer
    filterset_class = ValueFilter
    filter_backends = [FiltersetOnView, OrderingFilter]
    pagination_class = ValuePagination
    ordering_fields = ["month", "updated_at"]

    def get_queryset(self) -> QuerySet[MetricValue]:
        values, communities = MetricValue.objects.all(), self._communities()
        # Unfiltered communities are the whole region: every value is in scope, no join.
        if communities.query.has_filters():
            values = values.filter(community__in=communities.values("pk"))
        return values.select_related("community").order_by("-month", "community_id",
                                                           "indicator")

    def _communities(self) -> QuerySet[Community]:
        return Community.objects.visible_to(self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A page of plain rows; the count from per-community counts where that is exact."""
        queryset = self.filter_queryset(self.get_queryset())
        self.paginator.known_count = self._count_by_communities()
        page = self.paginate_queryset(queryset.values_list(*value_row_shape().columns))
        return self.get_paginated_response(value_rows(page))

    def _count_by_communities(self) -> int | None:
        """The list's count from ``ValueCount`` when only communities narrow the list.

        ``COUNT(*)`` over a region's values costs many times the page itself; any filter on
        the values themselves (months, indicators, report state) leaves the count to the
        paginator.
        """
        data = self.filterset.form.cleaned_data if self.filterset is not None else {}
        used = {name: value for name, value in data.items() if value not in EMPTY_VALUES}
        if not used.keys() <= COMMUNITY_FILTERS.keys():
            return None
        communities = self._communities().filter(
            **{COMMUNITY_FILTERS[name]: value.pk for name, value in used.items()})
        return values_count(communities=communities)

    @extend_schema(
        request=BulkSerializer, responses=BulkAnswerSerializer,
        parameters=[OpenApiParameter("dry_run", bool, description="только проверить")],
        summary="Записать значения (все или ни одного)",
    )
    @action(detail=False, methods=["post"], url_path="bulk", url_name="bulk")
    def bulk(self, request: Request) -> Response:
        """Upsert figures; ``dry_run=true`` answers what would change without writing."""
        if not rules.may_enter_values(request.user):
            raise NotAllowed(rules.ENTER_VALUES_REFUSED)
        data = BulkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dry_run = data.validated_data["dry_run"] or (
            request.query_params.get("dry_run", "").lower() in {"1", "true", "yes"})
        items = [ValueItem(v["community"], v["month"], Indicator(v["indicator"]), v["value"],
                           v.get("version")) for v in data.validated_data["values"]]
        result = values_bulk_upsert(user=request.user, items=items, dry_run=dry_run,
                                    source=data.validated_data["source"],
                                    source_file=data.validated_data["source_file"])
        return Response({
            "dry_run": dry_run,
            "changed": len(result.changes),
            "changes": [c.as_dict() for c in result.changes],
            "versions": [{"institution": i, "month": m.strftime("%Y-%m"), "version": v}
                         for (i, m), v in sorted(result.versions.items())],
        })
