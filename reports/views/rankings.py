"""Pages of rankings: the ranking, its exports, "why this place", publishing, public versions,
and the audience dynamics chart."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from institutions.models import (
    Community,
    Institution,
    Territory,
    is_regional_methodologist,
    profile_of,
)
from portal.errors import PortalError, ValidationFailed
from reports.counting import NOT_TABLE1_LINE, choice_of, pending_line, states_text
from reports.exports.rankings import ranking_csv, ranking_sheets
from reports.exports.xlsx import XLSX_CONTENT_TYPE, workbook_file
from reports.models import PublishedRanking, PublishedRankingVersion
from reports.rankings import (
    LEAGUES,
    RankingParams,
    params_without_top,
    ranking_explain_place,
    ranking_for_user,
    ranking_notes,
    ranking_stream_for_user,
)
from reports.rankings.audience import audience_series, sample_series
from reports.rankings.forms import RankingForm, params_query
from reports.rankings.picker import picker_choices, picker_resolve
from reports.rankings.publishing import describe_params, ranking_publish, version_params
from reports.rankings.results import ranking_pending
from reports.rankings.scope import ranking_scope_line

PAGE_SIZE = 100
# Communities without a figure listed on the page; a country's thousands go to the Excel file.
MISSING_SHOWN = 300
CHART_BARS = 30


def require_role(user) -> None:
    """Rankings are for people with a role in the portal (or superusers)."""
    if not (getattr(user, "is_superuser", False) or profile_of(user)):
        raise PermissionDenied("Нет доступа: у учётной записи нет роли в портале.")


def _params_or_errors(request: HttpRequest) -> tuple[RankingForm, RankingParams | None]:
    form = RankingForm(request.GET, user=request.user)
    try:
        return form, form.to_params()
    except ValidationFailed:
        return form, None


def _display_form(request: HttpRequest, params: RankingParams) -> RankingForm:
    """The filter form showing the dates actually used (defaults filled in)."""
    data = request.GET.copy()
    data["date_from"], data["date_to"] = params.date_from.isoformat(), params.date_to.isoformat()
    data.setdefault("metric", params.metric)
    data.setdefault("states", params.counting)
    form = RankingForm(data, user=request.user)
    form.is_valid()
    return form


def _chart(rows: list, label: str) -> dict[str, Any]:
    shown = rows[:CHART_BARS]
    return {
        "type": "bar", "label": label,
        "labels": [f"{r.place}. {r.community_title}"[:60] for r in shown],
        "values": [r.value for r in shown],
    }


@login_required
@require_safe
def ranking_page(request: HttpRequest) -> HttpResponse:
    """The ranking with filters, formula, chart, table and the communities without data."""
    require_role(request.user)
    form, params = _params_or_errors(request)
    if params is None:
        return render(request, "reports/rankings.html", {"form": form}, status=400)
    ranking = ranking_for_user(user=request.user, params=params)
    page = Paginator(ranking.rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": _display_form(request, params), "ranking": ranking, "page": page,
        "params": params, "query": params_query(params), "leagues": LEAGUES,
        "description": _description(params, request.user),
        "chart": _chart(list(page), params.spec.label),
        "can_publish": is_regional_methodologist(request.user),
        "missing_shown": ranking.missing[:MISSING_SHOWN],
        "missing_more": len(ranking.missing) > MISSING_SHOWN,
    }
    return render(request, "reports/rankings.html", context)


def _check_format(fmt: str) -> None:
    if fmt not in ("xlsx", "csv"):
        raise Http404("Выгрузка бывает в форматах xlsx и csv.")


def _description(params: RankingParams, user) -> list[str]:
    """The parameters in words and, for a reader who does not see the whole region, whose
    communities the places are counted among."""
    scope = ranking_scope_line(user)
    return [*describe_params(params), *([scope] if scope else [])]


def _title_lines(params: RankingParams, heading: str, user) -> list[str]:
    pending = ranking_pending(communities=Community.objects.visible_to(user), params=params)
    return [heading, *_description(params, user), pending_line(params.counting, pending),
            f"Сформировано: {timezone.localtime():%d.%m.%Y %H:%M}"]


@login_required
@require_safe
def ranking_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The ranking as XLSX or CSV, streamed (XLSX via a temporary file, never in memory)."""
    require_role(request.user)
    _check_format(fmt)
    form, params = _params_or_errors(request)
    if params is None:
        return HttpResponse(" ".join(str(e) for e in form.errors.values()), status=400,
                            content_type="text/plain; charset=utf-8")
    stream = ranking_stream_for_user(user=request.user, params=params)
    name = f"rating-{params.metric}-{params.date_from:%Y%m%d}-{params.date_to:%Y%m%d}"
    if fmt == "csv":
        response = StreamingHttpResponse(ranking_csv(metric=params.metric, rows=stream),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    sheets = ranking_sheets(metric=params.metric, rows=stream, missing=stream.missing,
                            title_lines=_title_lines(params, "Рейтинг сообществ", request.user),
                            notes=ranking_notes(params))
    return FileResponse(workbook_file(sheets), as_attachment=True, filename=f"{name}.xlsx",
                        content_type=XLSX_CONTENT_TYPE)


def _visible_community(user, pk: int) -> Community:
    queryset = Community.objects.visible_to(user).select_related("institution__territory")
    return get_object_or_404(queryset, pk=pk)


@login_required
@require_safe
def why_page(request: HttpRequest, community_id: int) -> HttpResponse:
    """Why a community holds its place: figures, neighbours, the growth needed to climb."""
    require_role(request.user)
    community = _visible_community(request.user, community_id)
    form, params = _params_or_errors(request)
    if params is None:
        return render(request, "reports/rankings.html", {"form": form}, status=400)
    params = params_without_top(params)
    ranking = ranking_for_user(user=request.user, params=params)
    explanations = [ranking_explain_place(ranking=ranking, community_id=community.pk)]
    return render(request, "reports/why.html", {
        "subject": community, "explanations": explanations, "ranking": ranking,
        "params": params, "query": params_query(params),
        "description": _description(params, request.user),
    })


@login_required
@require_safe
def why_institution_page(request: HttpRequest, institution_id: int) -> HttpResponse:
    """The same for every community of an institution, from one ranking."""
    require_role(request.user)
    institution = get_object_or_404(Institution.objects.visible_to(request.user),
                                    pk=institution_id)
    form, params = _params_or_errors(request)
    if params is None:
        return render(request, "reports/rankings.html", {"form": form}, status=400)
    params = params_without_top(params)
    ranking = ranking_for_user(user=request.user, params=params)
    ids = list(institution.communities.order_by("network", "pk").values_list("pk", flat=True))
    explanations = [ranking_explain_place(ranking=ranking, community_id=pk) for pk in ids]
    return render(request, "reports/why.html", {
        "subject": institution, "explanations": explanations, "ranking": ranking,
        "params": params, "query": params_query(params),
        "description": _description(params, request.user),
    })


@login_required
@require_POST
def publish(request: HttpRequest) -> HttpResponse:
    """Freeze the ranking given by the query string into a new published version."""
    if not is_regional_methodologist(request.user):
        raise PermissionDenied("Публиковать рейтинги может только региональный методист.")
    _form, params = _params_or_errors(request)
    if params is None:
        messages.error(request, "Параметры рейтинга заданы неверно — рейтинг не опубликован.")
        return redirect("reports:rankings")
    try:
        version = ranking_publish(
            user=request.user, params=params, title=request.POST.get("title", ""),
            slug=request.POST.get("slug", ""), methodology=request.POST.get("methodology", ""),
        )
    except PortalError as error:
        messages.error(request, f"Рейтинг не опубликован: {error.message}")
        return redirect(f"{reverse('reports:rankings')}?{params_query(params)}")
    messages.success(request, f"Опубликована версия {version.number}.")
    return redirect(version.get_absolute_url())


# --- Published rankings (public) ----------------------------------------------------------------


@require_safe
def published_list(request: HttpRequest) -> HttpResponse:
    """Every published ranking with its latest version; readable without login."""
    rankings = PublishedRanking.objects.order_by("-created_at", "pk").prefetch_related(
        "versions")
    return render(request, "reports/published_list.html", {"rankings": rankings})


@require_safe
def published_latest(request: HttpRequest, slug: str) -> HttpResponse:
    ranking = get_object_or_404(PublishedRanking, slug=slug)
    latest = ranking.versions.order_by("-number").first()
    if latest is None:
        raise Http404("У рейтинга нет опубликованных версий.")
    return redirect(latest.get_absolute_url())


def _version(slug: str, number: int) -> PublishedRankingVersion:
    return get_object_or_404(
        PublishedRankingVersion.objects.select_related("ranking"), ranking__slug=slug,
        number=number,
    )


def _thaw(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Frozen rows with their ISO dates back as dates, for templates."""
    out = []
    for row in rows:
        row = dict(row)
        for key in ("members_date", "start_date"):
            if row.get(key):
                row[key] = dt.date.fromisoformat(row[key])
        out.append(row)
    return out


def _frozen_pending(version: PublishedRankingVersion) -> str:
    choice = choice_of(version.counted_states)
    if version.pending is None:
        return NOT_TABLE1_LINE
    if choice is None:
        return ""
    text = pending_line(choice, version.pending)
    return f"На момент публикации: {text[0].lower()}{text[1:]}"


@require_safe
def published_version(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """One frozen version: names and figures as published; readable without login."""
    version = _version(slug, number)
    numbers = list(version.ranking.versions.order_by("number").values_list("number", flat=True))
    rows = _thaw(version.rows)
    return render(request, "reports/published_version.html", {
        "version": version, "rows": rows, "missing": version.missing, "numbers": numbers,
        "counted_states": states_text(version.counted_states),
        "pending_text": _frozen_pending(version),
        "params": version_params(version), "description": version.params.get("description", []),
        # Older versions carried the notes inside the methodology too: print each once.
        "notes": [n for n in version.notes if n.strip() not in version.methodology],
        "chart": {"type": "bar", "label": version.metric_label,
                  "labels": [f"{r['place']}. {r['community']}"[:60] for r in rows[:CHART_BARS]],
                  "values": [r["value"] for r in rows[:CHART_BARS]]},
    })


@require_safe
def published_export(request: HttpRequest, slug: str, number: int, fmt: str) -> HttpResponse:
    """A published version as XLSX or CSV, from its frozen rows."""
    _check_format(fmt)
    version = _version(slug, number)
    params = version_params(version)
    name = f"{version.ranking.slug}-v{version.number}"
    if fmt == "csv":
        response = StreamingHttpResponse(ranking_csv(metric=params.metric, rows=version.rows),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    title = [f"{version.title} (версия {version.number})",
             *version.params.get("description", []),
             f"Данные на: {version.data_as_of:%d.%m.%Y}" if version.data_as_of else "",
             f"Опубликовано: {timezone.localtime(version.published_at):%d.%m.%Y %H:%M}"]
    sheets = ranking_sheets(metric=params.metric, rows=version.rows, missing=version.missing,
                            title_lines=[line for line in title if line],
                            notes=["Методика:", version.methodology, "", *version.notes])
    return FileResponse(workbook_file(sheets), as_attachment=True, filename=f"{name}.xlsx",
                        content_type=XLSX_CONTENT_TYPE)


# --- Audience dynamics --------------------------------------------------------------------------

LEVELS = {"community": "Сообщество", "institution": "Учреждение", "territory": "Территория",
          "region": "Регион"}


def _audience_scope(user, level: str, pk: str | None) -> tuple[Any, Any]:
    """The communities to sum and what they belong to, within the user's scope."""
    communities = Community.objects.visible_to(user)
    try:
        key = int(pk) if pk else None
    except ValueError as exc:
        raise Http404("Нет такого объекта.") from exc
    if level == "community":
        community = get_object_or_404(communities, pk=key)
        return communities.filter(pk=community.pk), community
    # Which were active on each day is the series' business (as they were then).
    in_service = communities.filter(institution__is_active=True)
    if level == "institution":
        institution = get_object_or_404(Institution.objects.visible_to(user), pk=key)
        return in_service.filter(institution=institution), institution
    if level == "territory":
        territory = get_object_or_404(Territory.objects.visible_to(user), pk=key)
        return in_service.filter(institution__territory=territory), territory
    return in_service, "Все доступные сообщества"


def _date_param(request: HttpRequest, name: str, default: dt.date) -> dt.date:
    text = request.GET.get(name)
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed(f"Дата «{text}» должна быть в виде ГГГГ-ММ-ДД.") from exc


def _picked_id(request: HttpRequest, level: str) -> str | None:
    """The subject by its typed name (the picker), or by ``id`` (links from other pages)."""
    name = request.GET.get("name", "").strip()
    if level == "region" or not name:
        if level != "region" and not request.GET.get("id"):
            raise ValidationFailed("Начните вводить название и выберите его из подсказок.")
        return request.GET.get("id")
    return str(picker_resolve(user=request.user, level=level, name=name))


@login_required
@require_safe
def audience_chart(request: HttpRequest) -> HttpResponse:
    """Members over a chosen range for a community, institution, territory or the region."""
    require_role(request.user)
    level = request.GET.get("level", "region")
    if level not in LEVELS:
        raise Http404("Нет такого уровня.")
    picker = {"levels": LEVELS, "level": level, "choices": picker_choices(user=request.user),
              "name": request.GET.get("name", "")}
    try:
        object_id = _picked_id(request, level)
    except ValidationFailed as error:
        return render(request, "reports/charts_audience.html",
                      {**picker, "error": error.message}, status=400)
    subject_communities, subject = _audience_scope(request.user, level, object_id)
    today = timezone.localdate()
    try:
        date_to = _date_param(request, "date_to", today)
        date_from = _date_param(request, "date_from", date_to - dt.timedelta(days=90))
        if date_from > date_to:
            raise ValidationFailed("Начальная дата позже конечной.")
    except ValidationFailed as error:
        return render(request, "reports/charts_audience.html",
                      {**picker, "error": error.message}, status=400)
    points = sample_series(audience_series(communities=subject_communities,
                                           date_from=date_from, date_to=date_to,
                                           as_they_were=level != "community"))
    return render(request, "reports/charts_audience.html", {
        **picker, "subject": subject, "points": points,
        "name": picker["name"] or (str(subject) if level != "region" else ""),
        "date_from": date_from, "date_to": date_to,
        "chart": {"type": "line", "label": "Участники",
                  "labels": [f"{p.date:%d.%m.%Y}" for p in points],
                  "values": [p.members for p in points]},
    })

