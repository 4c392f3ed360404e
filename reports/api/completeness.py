"""API of completeness and timeliness: per territory and for the caller's whole scope."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.drainage import set_override
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from portal.errors import ValidationFailed
from portal.lib.months import parse_month
from reports.api.rankings import HasPortalRole
from reports.summaries.completeness import (
    completeness_month,
    completeness_totals,
    deadline_for,
    is_overdue,
    last_due_month,
)


class CompletenessLineSchema(serializers.Serializer):
    institutions_due = serializers.IntegerField(help_text="учреждений, с которых отчёт причитается")
    sent = serializers.IntegerField()
    completeness_pct = serializers.FloatField(allow_null=True)
    timely = serializers.IntegerField(help_text="отправлено в срок")
    timeliness_pct = serializers.FloatField(allow_null=True)
    not_started = serializers.IntegerField()
    overdue = serializers.IntegerField()


class CompletenessTerritorySchema(CompletenessLineSchema):
    territory_id = serializers.IntegerField()
    territory = serializers.CharField()


class CompletenessSchema(serializers.Serializer):
    month = serializers.CharField(help_text="ГГГГ-ММ")
    deadline = serializers.DateField()
    deadline_passed = serializers.BooleanField()
    total = CompletenessLineSchema()
    territories = CompletenessTerritorySchema(many=True)


# The list action answers one object (the month, its totals, the territories), not an array.
set_override(CompletenessSchema, "many", False)


def _line(line: Any) -> dict[str, Any]:
    return {"institutions_due": line.total, "sent": line.sent,
            "completeness_pct": line.completeness_pct, "timely": line.timely,
            "timeliness_pct": line.timeliness_pct, "not_started": line.not_started,
            "overdue": line.overdue}


class CompletenessViewSet(viewsets.ViewSet):
    """Who has reported for a month and who did so by the deadline."""

    permission_classes = [HasPortalRole]

    @extend_schema(
        parameters=[OpenApiParameter("month", str, description="Месяц ГГГГ-ММ (по умолчанию — "
                                                               "последний, чей срок прошёл)")],
        responses=CompletenessSchema, summary="Полнота и своевременность сдачи отчётов",
        operation_id="completeness_list",
    )
    def list(self, request: Request) -> Response:
        today = timezone.localdate()
        text = request.query_params.get("month")
        try:
            month = parse_month(text) if text else last_due_month(today)
        except ValueError as exc:
            raise ValidationFailed("Месяц должен быть в виде ГГГГ-ММ.") from exc
        lines = completeness_month(user=request.user, month=month, today=today)
        due = is_overdue(month, today)
        return Response({
            "month": month.strftime("%Y-%m"), "deadline": deadline_for(month).isoformat(),
            "deadline_passed": due,
            "total": _line(completeness_totals(lines, due=due)),
            "territories": [{"territory_id": line.territory_id, "territory": line.name,
                             **_line(line)} for line in lines],
        })
