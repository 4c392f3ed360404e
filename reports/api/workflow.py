"""API of the Table-1 workflow: reports with their actions (values: ``reports.api.values``).

Thin: parse, call a service from ``reports.workflow.services``, serialize. Scoping and rules are the
same as on the pages because both call the same services and querysets.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from portal.errors import NotAllowed, ValidationFailed
from portal.lib.months import parse_month
from reports.models import Report, ReportAction
from reports.workflow import rules
from reports.workflow.bulk import (
    BULK_ACTIONS,
    BULK_LIMIT,
    bulk_actions_for,
    reports_bulk_transition,
)
from reports.workflow.filters import ReportFilter
from reports.workflow.selectors import report_warnings
from reports.workflow.services import ACTIONS


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$", "example": "2026-01"}
)
class MonthField(serializers.Field):
    """Months travel as ``YYYY-MM``."""

    default_error_messages = {"invalid": "Месяц должен быть в виде ГГГГ-ММ."}

    def to_representation(self, value) -> str:
        return value.strftime("%Y-%m")

    def to_internal_value(self, data):
        try:
            return parse_month(str(data))
        except ValueError:
            self.fail("invalid")


class ReportSerializer(serializers.ModelSerializer):
    month = MonthField()
    institution_name = serializers.CharField(source="institution.short_name")
    territory = serializers.IntegerField(source="institution.territory_id")
    state_label = serializers.CharField(source="get_state_display")
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ["id", "institution", "institution_name", "territory", "month", "state",
                  "state_label", "version", "submitted_by", "submitted_at", "accepted_by",
                  "accepted_at", "approved_by", "approved_at", "updated_at", "actions"]
        read_only_fields = fields

    def get_actions(self, report: Report) -> list[str]:
        """What the caller may do with the report now."""
        user = self.context["request"].user
        return rules.allowed_actions(user, report.institution, report.state)


class ReportCommentSerializer(serializers.Serializer):
    action = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    text = serializers.CharField()
    warnings = serializers.JSONField()
    author = serializers.CharField(source="author.username", default=None, allow_null=True)
    created_at = serializers.DateTimeField()


class ReportDetailSerializer(ReportSerializer):
    comments = ReportCommentSerializer(many=True, read_only=True)
    warnings = serializers.SerializerMethodField()

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "comments", "warnings"]
        read_only_fields = fields

    def get_warnings(self, report: Report) -> list[dict]:
        """Unusual figures of the month (they need a comment on submit)."""
        return [w.as_dict() for w in report_warnings(institution=report.institution,
                                                     month=report.month)]


class ActionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, min_value=1,
                                       help_text="версия отчёта, которую видел клиент")


def _action_view(name: str, attribute: str):
    """A POST action calling the workflow service ``name`` (``attribute``: the method name)."""

    def view(self, request: Request, pk=None) -> Response:
        report = self.get_object()
        data = ActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moved = ACTIONS[name](user=request.user, report_id=report.pk,
                              comment=data.validated_data["comment"],
                              version=data.validated_data.get("version"))
        return Response(ReportSerializer(moved, context=self.get_serializer_context()).data)

    view.__name__ = view.__qualname__ = attribute
    view = action(detail=True, methods=["post"], url_path=name, url_name=name)(view)
    return extend_schema(request=ActionSerializer, responses=ReportSerializer,
                         summary=f"{ReportAction(name).label.capitalize()} отчёт")(view)


class ReportBulkSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[(a, ReportAction(a).label) for a in BULK_ACTIONS],
                                     help_text="принять, утвердить или вернуть на доработку")
    comment = serializers.CharField(required=False, allow_blank=True, default="",
                                    help_text="один комментарий на все отчёты; для возврата — "
                                              "обязательная причина")
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                help_text="номера отчётов")
    filter = serializers.DictField(required=False, help_text="или все отчёты по фильтру "
                                   "списка: state, territory, institution, month_from, month_to")

    def validate(self, attrs: dict) -> dict:
        if ("ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError("Укажите либо ids, либо filter.")
        return attrs


class ReportBulkRefusalSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="report_id")
    reason = serializers.CharField()


class ReportBulkOutcomeSerializer(serializers.Serializer):
    action = serializers.CharField()
    changed = ReportSerializer(many=True)
    refused = ReportBulkRefusalSerializer(many=True)


def _bulk_ids(request: Request, data: dict) -> list[int]:
    if "ids" in data:
        return data["ids"]
    filterset = ReportFilter(data["filter"], request=request,
                             queryset=Report.objects.visible_to(request.user))
    if not filterset.is_valid():
        raise ValidationFailed("Фильтр задан неверно.", details=filterset.errors)
    return list(filterset.qs.order_by("month", "pk").values_list("pk", flat=True)
                [:BULK_LIMIT + 1])


class ReportViewSet(viewsets.ReadOnlyModelViewSet):
    """Monthly Table-1 reports within the caller's scope, and the workflow actions."""

    filterset_class = ReportFilter
    ordering_fields = ["month", "updated_at", "state"]

    def get_queryset(self) -> QuerySet[Report]:
        queryset = Report.objects.visible_to(self.request.user).select_related(
            "institution").order_by("-month", "institution_id", "pk")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("comments__author")
        return queryset

    def get_serializer_class(self):
        return ReportDetailSerializer if self.action == "retrieve" else ReportSerializer

    submit = _action_view(ReportAction.SUBMIT, "submit")
    accept = _action_view(ReportAction.ACCEPT, "accept")
    approve = _action_view(ReportAction.APPROVE, "approve")
    return_ = _action_view(ReportAction.RETURN, "return_")
    reopen = _action_view(ReportAction.REOPEN, "reopen")

    @extend_schema(request=ReportBulkSerializer, responses=ReportBulkOutcomeSerializer,
                   summary="Принять, утвердить или вернуть много отчётов одним действием")
    @action(detail=False, methods=["post"], url_path="bulk", url_name="bulk")
    def bulk(self, request: Request) -> Response:
        """Each report in its own transaction; the answer lists what changed and what was
        refused and why."""
        if not bulk_actions_for(request.user):
            raise NotAllowed("Проверять отчёты могут муниципальные отделы культуры и "
                             "региональные методисты.")
        data = ReportBulkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = reports_bulk_transition(
            user=request.user, report_ids=_bulk_ids(request, data.validated_data),
            action=data.validated_data["action"], comment=data.validated_data["comment"])
        return Response(ReportBulkOutcomeSerializer(outcome,
                                              context=self.get_serializer_context()).data)
