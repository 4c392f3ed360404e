"""Pages of the quality index: the ranking and its publishing, a community's page, the
methodology (help for everyone, editing for the regional methodologist), content formats."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from institutions.choices import CommunityCategory
from institutions.models import Community, Territory, is_regional_methodologist
from institutions.services import community_category_set
from portal.errors import PortalError
from portal.lib.months import add_months, month_end
from reports.models import PublishedQualityRanking
from reports.quality.formats import LEVELS, format_totals, posts_by_format, posts_by_hashtag
from reports.quality.forms import MethodologyForm
from reports.quality.methodology import methodology_current, methodology_save
from reports.quality.page import community_page as build_community_page
from reports.quality.page import latest_month
from reports.quality.query import QualityParams
from reports.quality.ranking import quality_publish, quality_ranking
from reports.quality.rules import COMPONENT_FORMULAS, COMPONENTS, NORMS
from reports.quality.weekly import norms_by_month, norms_by_week
from reports.views.rankings import require_role

CHART_BARS = 30
NORMS_PAGE = 50
RANKING_PAGE = 100


def _month(request: HttpRequest, communities) -> dt.date:
    """``?month=ГГГГ-ММ``, or the newest month with collected posts, or last month."""
    raw = request.GET.get("month", "")
    if raw:
        try:
            return dt.date.fromisoformat(f"{raw}-01")
        except ValueError as exc:
            raise Http404("Месяц указывается как ГГГГ-ММ, например 2026-02.") from exc
    found = latest_month(communities)
    return found or add_months(timezone.localdate().replace(day=1), -1)


def _ranking_chart(rows: list[dict]) -> dict:
    shown = rows[:CHART_BARS]
    return {"type": "bar", "label": "Индекс качества, баллы",
            "labels": [f"{r['place']}. {r['title'] or r['institution_name']}"[:60]
                       for r in shown],
            "values": [round(float(r["quality_index"]), 2) for r in shown]}


@login_required
@require_safe
def quality_ranking_page(request: HttpRequest) -> HttpResponse:
    """The region's index ranking for a month, each component's points, a chart and a table."""
    require_role(request.user)
    month = _month(request, Community.objects.visible_to(request.user).values("pk"))
    params = QualityParams(month, month_end(month))
    methodology = methodology_current()
    rows = quality_ranking(user=request.user, params=params, methodology=methodology)
    territory = request.GET.get("territory", "")
    if territory.isdigit():  # places stay the region's
        rows = [r for r in rows if r["territory_id"] == int(territory)]
    page = Paginator(rows, RANKING_PAGE).get_page(request.GET.get("page"))
    return render(request, "reports/quality_ranking.html", {
        "rows": rows, "page": page, "month": month, "methodology": methodology,
        "components": COMPONENTS, "territory": territory,
        "territories": Territory.objects.visible_to(request.user).order_by("name"),
        "query": f"month={month:%Y-%m}&territory={territory if territory.isdigit() else ''}",
        "component_weights": [(label, methodology.weights[code])
                              for code, label in COMPONENTS.items()],
        "chart": _ranking_chart(list(page)), "can_publish": is_regional_methodologist(request.user),
        "published": PublishedQualityRanking.objects.only("number", "title", "published_at")[:5],
    })


@login_required
@require_POST
def quality_publish_view(request: HttpRequest) -> HttpResponse:
    if not is_regional_methodologist(request.user):
        raise PermissionDenied("Публиковать индекс качества может только региональный методист.")
    try:
        month = dt.date.fromisoformat(f"{request.POST.get('month', '')}-01")
    except ValueError as exc:
        raise Http404("Месяц указывается как ГГГГ-ММ, например 2026-02.") from exc
    try:
        version = quality_publish(user=request.user, params=QualityParams(month,
                                                                          month_end(month)),
                                  title=request.POST.get("title", ""))
    except PortalError as error:
        messages.error(request, error.message)
        return redirect(f"{reverse('reports:quality')}?month={month:%Y-%m}")
    messages.success(request, f"Рейтинг опубликован под номером {version.number}.")
    return redirect("reports:quality-published", number=version.number)


@require_safe
def quality_published(request: HttpRequest, number: int) -> HttpResponse:
    """A published index ranking, as it was frozen (public, like the other rankings)."""
    version = get_object_or_404(PublishedQualityRanking, number=number)
    return render(request, "reports/quality_published.html",
                  {"version": version, "components": COMPONENTS})


@login_required
@require_safe
def quality_community(request: HttpRequest, pk: int) -> HttpResponse:
    """A community's page: how it is kept, how it posts, what would raise its index."""
    require_role(request.user)
    community = get_object_or_404(
        Community.objects.visible_to(request.user).select_related("institution__territory"),
        pk=pk)
    month = _month(request, [community.pk])
    page = build_community_page(user=request.user, community=community, month=month)
    charts = {kind: page.chart(kind) for kind in ("audience", "weeks", "engagement", "formats")}
    return render(request, "reports/quality_community.html", {
        "page": page, "charts": charts, "norms": NORMS, "components": COMPONENTS,
        "categories": CommunityCategory.choices,
        "can_set_category": is_regional_methodologist(request.user),
        "previous": add_months(month, -1), "next": add_months(month, 1)})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def methodology_page(request: HttpRequest) -> HttpResponse:
    """The methodology: rules with the guide's words and formulas; the methodologist edits it."""
    require_role(request.user)
    methodology = methodology_current()
    can_edit = is_regional_methodologist(request.user)
    form = MethodologyForm(methodology=methodology, data=request.POST or None)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Методику меняет только региональный методист.")
        if form.is_valid():
            try:
                saved = methodology_save(user=request.user, **form.payload())
            except PortalError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Методика сохранена как версия {saved.number}.")
                return redirect("reports:quality-methodology")
    return render(request, "reports/quality_methodology.html", {
        "methodology": methodology, "form": form, "can_edit": can_edit, "norms": NORMS,
        "components": [(code, label, methodology.weights[code], COMPONENT_FORMULAS[code])
                       for code, label in COMPONENTS.items()]},
        status=400 if form.errors else 200)


def _level(request: HttpRequest) -> tuple[str, int | None]:
    level = request.GET.get("level", "region")
    if level not in LEVELS:
        raise Http404("Нет такого уровня: регион, территория, учреждение или сообщество.")
    raw = request.GET.get("id", "")
    return level, int(raw) if raw.isdigit() else None


@login_required
@require_safe
def formats_page(request: HttpRequest) -> HttpResponse:
    """Posts by format and by hashtag with their engagement, month by month."""
    require_role(request.user)
    level, object_id = _level(request)
    last = _month(request, Community.objects.visible_to(request.user).values("pk"))
    first = add_months(last, -2)
    scope = {"user": request.user, "level": level, "object_id": object_id, "first": first,
             "last": last}
    by_month = posts_by_format(**scope)
    totals = format_totals(by_month)
    return render(request, "reports/quality_formats.html", {
        "level": level, "levels": LEVELS, "object_id": object_id or "", "first": first,
        "last": last, "by_month": by_month, "totals": totals,
        "hashtags": posts_by_hashtag(**scope),
        "chart": {"type": "bar", "label": "Записей за три месяца",
                  "labels": [t.label for t in totals], "values": [t.posts for t in totals]}})


@login_required
@require_safe
def norms_page(request: HttpRequest) -> HttpResponse:
    """Who meets their category's norms, week by week and month by month (a page of 50)."""
    require_role(request.user)
    visible = Community.objects.visible_to(request.user).filter(state="active")
    territory = request.GET.get("territory", "")
    if territory.isdigit():
        visible = visible.filter(institution__territory_id=int(territory))
    month = _month(request, visible.values("pk"))
    page = Paginator(visible.order_by("title", "pk").values_list("pk", flat=True),
                     NORMS_PAGE).get_page(request.GET.get("page"))
    ids, methodology = list(page), methodology_current()
    end = month_end(month)
    return render(request, "reports/quality_norms.html", {
        "month": month, "page": page, "territory": territory,
        "query": f"month={month:%Y-%m}&territory={territory if territory.isdigit() else ''}",
        "territories": Territory.objects.visible_to(request.user).order_by("name"),
        "weeks": norms_by_week(community_ids=ids, date_from=month, date_to=end,
                               methodology=methodology),
        "months": norms_by_month(community_ids=ids, date_from=add_months(month, -2),
                                 date_to=end, methodology=methodology)})


@login_required
@require_POST
def community_category(request: HttpRequest, pk: int) -> HttpResponse:
    """The methodologist sets the community's category (or returns it to the rule)."""
    community = get_object_or_404(Community.objects.visible_to(request.user), pk=pk)
    if not is_regional_methodologist(request.user):
        raise PermissionDenied("Категорию сообщества назначает только региональный методист.")
    try:
        community_category_set(user=request.user, community_id=community.pk,
                               category=request.POST.get("category", ""))
    except PortalError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Категория сохранена.")
    month = request.POST.get("month", "")
    suffix = f"?month={month}" if len(month) == 7 else ""
    return redirect(reverse("reports:quality-community", args=[community.pk]) + suffix)
