"""API of completeness and timeliness: per territory and for the caller's whole scope."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
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
        responses=OpenApiTypes.OBJECT, summary="Полнота и своевременность сдачи отчётов",
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
