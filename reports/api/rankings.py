"""Ranking, "why this place", published-ranking and summary endpoints.

The same parameters as the pages (one form parses both). JSON by default; ``?format=csv`` or
``?format=xlsx`` streams the same rows as a file.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Iterator
from typing import Any

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from institutions.models import Community, profile_of
from portal.errors import NotFound, ValidationFailed
from reports.api.schemas import (
    RankingSchema,
    RankingWhySchema,
    TerritorySummarySchema,
    files_only,
    with_files,
)
from reports.counting import COUNTING_CHOICES, counting_json, pending_line
from reports.exports.rankings import ranking_csv, ranking_sheets
from reports.exports.summary import summary_workbook
from reports.exports.xlsx import XLSX_CONTENT_TYPE, workbook_file
from reports.models import PublishedRanking, PublishedRankingVersion
from reports.rankings import (
    INTERACTIONS_NOTE,
    LEAGUE_CHOICES,
    LEAGUES,
    METRIC_CHOICES,
    RANKING_METHOD_NOTE,
    RankingJson,
    RankingParams,
    params_without_top,
    ranking_explain_place,
    ranking_for_user,
    ranking_json,
    ranking_notes,
    ranking_stream_for_user,
)
from reports.rankings.forms import PERIOD_CHOICES, parse_ranking_params
from reports.rankings.publishing import describe_params, version_params
from reports.rankings.results import ranking_pending
from reports.rankings.scope import ranking_scope_line
from reports.summaries.forms import SummaryForm
from reports.summaries.selectors import METHOD_NOTES, TerritorySummary, territory_summary

# Ranked rows per piece of a streamed JSON ranking (≈ 0.5 MB).
JSON_CHUNK_ROWS = 1000


class _FileRenderer(BaseRenderer):
    """Lets ``?format=csv|xlsx`` through content negotiation; the views stream the file.

    Only error bodies are ever rendered by it, and those as JSON text.
    """

    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: dict | None = None) -> bytes:
        return json.dumps(data, ensure_ascii=False, default=str).encode()


class CSVRenderer(_FileRenderer):
    media_type, format = "text/csv", "csv"


class XLSXRenderer(_FileRenderer):
    media_type, format = XLSX_CONTENT_TYPE, "xlsx"


class HasPortalRole(permissions.BasePermission):
    """Signed in with a role in the portal (or a superuser)."""

    message = "Нет доступа: у учётной записи нет роли в портале."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated
                    and (user.is_superuser or profile_of(user) is not None))


def _choices_text(choices: list[tuple[str, str]]) -> str:
    return "; ".join(f"`{code}` — {label}" for code, label in choices)


RANKING_PARAMETERS = [
    OpenApiParameter("metric", str, description="Показатель: " + _choices_text(METRIC_CHOICES)),
    OpenApiParameter("period", str, enum=[c for c, _ in PERIOD_CHOICES],
                     description="range (date_from/date_to), month, quarter, year (year/number)"),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Начальная дата (ГГГГ-ММ-ДД)"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Конечная дата (ГГГГ-ММ-ДД)"),
    OpenApiParameter("year", int, description="Год для period=month|quarter|year"),
    OpenApiParameter("number", int, description="Номер месяца (1–12) или квартала (1–4)"),
    OpenApiParameter("territory", int, description="Код территории"),
    OpenApiParameter("institution_type", str, description="Тип учреждения"),
    OpenApiParameter("network", str, enum=["vk", "ok"], description="Соцсеть"),
    OpenApiParameter("subordination", str, enum=["regional", "municipal"]),
    OpenApiParameter("flagship", bool, description="Только флагманские (участников больше "
                     "порога FLAGSHIP_MEMBERS_THRESHOLD, по умолчанию 500)"),
    OpenApiParameter("league", str, description="Лига: " + _choices_text(LEAGUE_CHOICES)),
    OpenApiParameter("top", int, description="ТОП-N (при равенстве на N-м месте — все)"),
    OpenApiParameter("states", str, enum=[c for c, _ in COUNTING_CHOICES],
                     description="Чьи значения Таблицы 1 учитывать: "
                     + _choices_text(COUNTING_CHOICES)
                     + " (по умолчанию — настройка региона ANALYTICS_REPORT_STATES)"),
    OpenApiParameter("format", str, enum=["json", "csv", "xlsx"],
                     description="Формат ответа (по умолчанию JSON)"),
]
PUBLISHED_LIST_SCHEMA = inline_serializer("PublishedRankingSummary", {
    "slug": serializers.CharField(),
    "title": serializers.CharField(),
    "versions": serializers.ListField(child=serializers.DictField()),
}, many=True)


def _metric_json(params: RankingParams) -> dict[str, Any]:
    spec = params.spec
    return {"code": spec.code, "label": spec.label, "formula": spec.formula,
            "decimals": spec.decimals, "unit": spec.unit, "interactions": INTERACTIONS_NOTE,
            "ranking_method": RANKING_METHOD_NOTE,
            "leagues": [{"code": lg.code, "label": lg.label, "min": lg.low, "max": lg.high}
                        for lg in LEAGUES]}


def json_streamed(head: dict[str, Any], ranking: RankingJson) -> Iterator[bytes]:
    """``head`` plus ``results`` and ``missing`` as one JSON object, a piece at a time.

    The ranked rows are JSON texts written by the database; they pass through
    ``JSON_CHUNK_ROWS`` at a time, never decoded nor all held, so a country's ranking streams
    in flat memory.
    """
    dump = lambda value: json.dumps(value, ensure_ascii=False, default=str)  # noqa: E731
    try:
        yield (dump(head)[:-1] + ', "results": [').encode()
        rows, separator = ranking.ranked(), b""
        while piece := list(itertools.islice(rows, JSON_CHUNK_ROWS)):
            yield separator + b", ".join(piece)
            separator = b", "
        yield ('], "missing": ' + dump(ranking.missing()) + "}").encode()
    finally:
        ranking.close()


def _ranking_answer(request: Request, params: RankingParams,
                    pending: int | None) -> Iterator[bytes]:
    """The JSON answer, computed as it is read.

    The ranking's statement runs in a transaction held while its rows stream. Started in the
    view, an answer nobody reads (a test that only looks at the status) would keep that
    transaction open until the garbage collector closed it, maybe inside another request's
    transaction; started here, it opens only once the server writes the answer out, and the
    server's close ends it.
    """
    ranking = ranking_json(communities=Community.objects.visible_to(request.user),
                           params=params)
    head = {"params": params.as_json(), "metric": _metric_json(params),
            "notes": ranking_notes(params), "scope": ranking_scope_line(request.user),
            "data_as_of": ranking.data_as_of,
            "count": ranking.count, "counting": counting_json(params.counting, pending)}
    yield from json_streamed(head, ranking)


def file_response(request: Request, *, metric: str, rows: Any, missing: Any,
                  title_lines: list[str], notes: list[str], name: str) -> HttpResponse:
    """The rows as the CSV or XLSX file the request asked for."""
    if request.accepted_renderer.format == "csv":
        response = StreamingHttpResponse(ranking_csv(metric=metric, rows=rows),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    sheets = ranking_sheets(metric=metric, rows=rows, missing=missing,
                            title_lines=title_lines, notes=notes)
    return FileResponse(workbook_file(sheets), as_attachment=True, filename=f"{name}.xlsx",
                        content_type=XLSX_CONTENT_TYPE)


FILE_FORMAT = OpenApiParameter("format", str, enum=["xlsx", "csv"],
                               description="Формат файла (по умолчанию XLSX)")


class RankingViewSet(viewsets.ViewSet):
    """Rankings of the communities within the caller's scope, computed in the database."""

    permission_classes = [HasPortalRole]
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]

    @extend_schema(parameters=RANKING_PARAMETERS, responses=with_files(RankingSchema),
                   summary="Рейтинг сообществ", operation_id="rankings_list")
    def list(self, request: Request) -> HttpResponse:
        params = parse_ranking_params(request.query_params, user=request.user)
        pending = ranking_pending(communities=Community.objects.visible_to(request.user),
                                  params=params)
        if request.accepted_renderer.format in ("csv", "xlsx"):
            stream = ranking_stream_for_user(user=request.user, params=params)
            return file_response(
                request, metric=params.metric, rows=stream, missing=stream.missing,
                title_lines=["Рейтинг сообществ", *describe_params(params),
                             *filter(None, [ranking_scope_line(request.user)]),
                             pending_line(params.counting, pending),
                             f"Сформировано: {timezone.localtime():%d.%m.%Y %H:%M}"],
                notes=ranking_notes(params),
                name=f"rating-{params.metric}-{params.date_from:%Y%m%d}-{params.date_to:%Y%m%d}",
            )
        return StreamingHttpResponse(_ranking_answer(request, params, pending),
                                     content_type="application/json")

    @extend_schema(parameters=[*RANKING_PARAMETERS[:-1], FILE_FORMAT],
                   responses=files_only(), operation_id="rankings_file",
                   summary="Рейтинг сообществ файлом (XLSX или CSV)")
    @action(detail=False, methods=["get"], url_path="file",
            renderer_classes=[XLSXRenderer, CSVRenderer])
    def file(self, request: Request) -> HttpResponse:
        """The ranking as a file: XLSX by default, ``?format=csv`` for CSV."""
        return self.list(request)

    @extend_schema(
        parameters=[OpenApiParameter("community", int, required=True,
                                     description="Код сообщества"),
                    *RANKING_PARAMETERS[:-2]],
        responses=RankingWhySchema, summary="Почему сообщество на этом месте",
        operation_id="rankings_why",
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer])
    def why(self, request: Request) -> Response:
        try:
            community_id = int(request.query_params.get("community", ""))
        except ValueError as exc:
            raise ValidationFailed("Укажите код сообщества: ?community=…") from exc
        if not Community.objects.visible_to(request.user).filter(pk=community_id).exists():
            raise NotFound("Сообщество не найдено или недоступно.")
        params = params_without_top(parse_ranking_params(request.query_params,
                                                         user=request.user))
        ranking = ranking_for_user(user=request.user, params=params)
        why = ranking_explain_place(ranking=ranking, community_id=community_id)
        by_id = {r["community_id"]: r for r in [*ranking.plain_rows, *ranking.plain_missing]}
        return Response({
            "params": params.as_json(), "metric": _metric_json(params),
            "row": by_id.get(community_id),
            "above": [by_id[r.community_id] for r in why.above],
            "below": [by_id[r.community_id] for r in why.below],
            "to_next_place": why.to_next_place,
            "members_to_next_place": why.members_to_next_place,
            "next_league": why.next_league.code if why.next_league else None,
            "members_to_next_league": why.members_to_next_league,
        })


SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="Адрес рейтинга")


def _version_json(version: PublishedRankingVersion, *, rows: bool) -> dict[str, Any]:
    out = {
        "slug": version.ranking.slug, "number": version.number, "title": version.title,
        "metric_label": version.metric_label, "params": version.params,
        "methodology": version.methodology, "notes": version.notes,
        "data_as_of": version.data_as_of, "published_at": version.published_at,
        "url": version.get_absolute_url(), "counted_states": version.counted_states,
        "pending": version.pending,
    }
    if rows:
        out.update(count=len(version.rows), results=version.rows, missing=version.missing)
    return out


class PublishedRankingViewSet(viewsets.ViewSet):
    """Published rankings: frozen versions, public (no login), names and figures only."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]
    lookup_field = "slug"

    @extend_schema(responses=PUBLISHED_LIST_SCHEMA, summary="Опубликованные рейтинги",
                   operation_id="published_rankings_list")
    def list(self, request: Request) -> Response:
        rankings = PublishedRanking.objects.order_by("-created_at", "pk").prefetch_related(
            "versions")
        return Response([{
            "slug": r.slug, "title": r.title,
            "versions": [{"number": v.number, "published_at": v.published_at,
                          "url": v.get_absolute_url()} for v in r.versions.all()],
        } for r in rankings])

    @extend_schema(parameters=[SLUG, OpenApiParameter("format", str,
                                                      enum=["json", "csv", "xlsx"])],
                   responses=OpenApiTypes.OBJECT, summary="Последняя версия рейтинга")
    def retrieve(self, request: Request, slug: str) -> HttpResponse:
        version = (PublishedRankingVersion.objects.select_related("ranking")
                   .filter(ranking__slug=slug).order_by("-number").first())
        if version is None:
            raise NotFound("Опубликованный рейтинг не найден.")
        return self._respond(request, version)

    @extend_schema(
        parameters=[SLUG, OpenApiParameter("number", int, OpenApiParameter.PATH),
                    OpenApiParameter("format", str, enum=["json", "csv", "xlsx"])],
        responses=OpenApiTypes.OBJECT, summary="Версия опубликованного рейтинга",
    )
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]+)")
    def version(self, request: Request, slug: str, number: str) -> HttpResponse:
        version = get_object_or_404(PublishedRankingVersion.objects.select_related("ranking"),
                                    ranking__slug=slug, number=int(number))
        return self._respond(request, version)

    def _respond(self, request: Request, version: PublishedRankingVersion) -> HttpResponse:
        if request.accepted_renderer.format in ("csv", "xlsx"):
            params = version_params(version)
            return file_response(
                request, metric=params.metric, rows=version.rows, missing=version.missing,
                title_lines=[f"{version.title} (версия {version.number})",
                             *version.params.get("description", [])],
                notes=["Методика:", version.methodology, "", *version.notes],
                name=f"{version.ranking.slug}-v{version.number}",
            )
        return Response(_version_json(version, rows=True))


SUMMARY_PARAMETERS = [
    OpenApiParameter("territory", int, required=True, description="Код территории"),
    *[p for p in RANKING_PARAMETERS if p.name in ("period", "date_from", "date_to", "year",
                                                   "number", "states")],
    OpenApiParameter("format", str, enum=["json", "xlsx"], description="Формат ответа"),
]


def _summary_json(summary: TerritorySummary) -> dict[str, Any]:
    return {
        "territory_id": summary.territory_id, "territory": summary.territory_name,
        "date_from": summary.date_from, "date_to": summary.date_to,
        "months": [m.isoformat() for m in summary.months], "notes": METHOD_NOTES,
        "totals": summary.totals, "averages": summary.averages,
        "reports_sent": summary.reports_sent, "reports_expected": summary.reports_expected,
        "completeness_pct": summary.completeness_pct,
        "counting": counting_json(summary.counting, summary.pending),
        "institutions": [{
            "institution_id": i.institution_id, "institution": i.name, "type": i.type,
            "totals": i.totals, "growth": i.growth, "reports_sent": i.reports_sent,
            "completeness_pct": i.completeness_pct,
            "communities": [{
                "community_id": c.community_id, "community": c.title, "network": c.network,
                "url": c.url, "state": c.state, "figures": c.figures,
                "members_start": c.members_start, "members_end": c.members_end,
                "growth": c.growth,
            } for c in i.communities],
        } for i in summary.institutions],
    }


class TerritorySummaryViewSet(viewsets.ViewSet):
    """A territory's consolidated report for a period (Table 1, growth, completeness)."""

    permission_classes = [HasPortalRole]
    renderer_classes = [JSONRenderer, XLSXRenderer]

    @extend_schema(parameters=SUMMARY_PARAMETERS,
                   responses=with_files(TerritorySummarySchema, csv=False),
                   summary="Сводный отчёт территории", operation_id="summaries_list")
    def list(self, request: Request) -> HttpResponse:
        form = SummaryForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise form.errors_message("Параметры сводного отчёта заданы неверно")
        data = form.cleaned_data
        if data.get("territory") is None:
            raise ValidationFailed("Укажите территорию: ?territory=…")
        summary = territory_summary(user=request.user, territory=data["territory"],
                                    date_from=data["date_from"], date_to=data["date_to"],
                                    counting=form.counting())
        if request.accepted_renderer.format == "xlsx":
            handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
            summary_workbook(handle, summary)
            handle.seek(0)
            return FileResponse(handle, as_attachment=True, content_type=XLSX_CONTENT_TYPE,
                                filename=f"svodny-{summary.territory_id}-"
                                         f"{summary.date_from:%Y%m}-{summary.date_to:%Y%m}.xlsx")
        return Response(_summary_json(summary))

    @extend_schema(parameters=[*SUMMARY_PARAMETERS[:-1]], responses=files_only(csv=False),
                   summary="Сводный отчёт территории файлом XLSX", operation_id="summaries_file")
    @action(detail=False, methods=["get"], url_path="file", renderer_classes=[XLSXRenderer])
    def file(self, request: Request) -> HttpResponse:
        return self.list(request)
