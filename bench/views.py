"""Baselines as plain Django views: the least code that answers with the same rows."""

from __future__ import annotations

from django.db.models import F
from django.http import HttpRequest, JsonResponse

from institutions.models import Community
from metrics.models import MetricValue

VALUE_FIELDS = ["id", "community", "month", "indicator", "value", "source", "api_value",
                "api_source", "api_collected_at", "is_confirmed", "updated_by", "updated_at"]


def bare_values(request: HttpRequest) -> JsonResponse:
    """The metrics list API's first page as a bare ``.values()`` JsonResponse, same scope."""
    size = int(request.GET.get("page_size", 50))
    rows = (MetricValue.objects
            .filter(community__in=Community.objects.visible_to(request.user).values("pk"))
            .order_by("-month", "community_id", "indicator")
            .values(*VALUE_FIELDS, institution=F("community__institution_id"))[:size])
    return JsonResponse({"results": list(rows)})
