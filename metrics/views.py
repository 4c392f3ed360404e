"""Collection pages: runs with live progress, «Собрать сейчас», tokens, the help page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from institutions.models import is_regional_methodologist
from metrics.choices import Indicator
from metrics.collect.choices import AnomalyState, RunState
from metrics.collect.guard import anomaly_decide
from metrics.collect.mapping import POSTS_MAPPING, STATS_MAPPING
from metrics.collect.quota_plan import collection_plan_shown
from metrics.collect.runs import BATCH_SIZES, collection_run_resume, collection_run_start
from metrics.collect.schedule import DEFAULT_SCHEDULE
from metrics.collect.selectors import can_see_runs, run_items, run_progress, runs_list
from metrics.forms import CollectNowForm, TokenForm
from metrics.models import Anomaly, CollectionRun
from metrics.tokens import can_manage_tokens, token_delete, token_register, tokens_visible_to
from portal.errors import PortalError, ServiceUnavailable


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


@login_required
def runs(request: HttpRequest) -> HttpResponse:
    _require(can_see_runs(request.user))
    page = Paginator(runs_list(), 50).get_page(request.GET.get("page"))
    can_start = is_regional_methodologist(request.user)
    return render(request, "metrics/runs.html", {
        "page": page, "can_start": can_start, "form": CollectNowForm() if can_start else None,
    })


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    _require(is_regional_methodologist(request.user))
    form = CollectNowForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Выберите, что и откуда собрать.")
        return redirect("metrics:collection-runs")
    kind, started = form.cleaned_data["kind"], []
    try:
        for network in form.networks():
            if (kind, network) in BATCH_SIZES:
                started.append(collection_run_start(kind=kind, network=network,
                                                    user=request.user))
    except ServiceUnavailable as exc:
        messages.error(request, exc.message)
        return redirect("metrics:collection-runs")
    if not started:
        messages.warning(request, "Такой сбор не предусмотрен.")
        return redirect("metrics:collection-runs")
    messages.success(request, "Сбор запущен: " + "; ".join(str(r) for r in started) + ".")
    if len(started) == 1:
        return redirect("metrics:collection-run", pk=started[0].pk)
    return redirect("metrics:collection-runs")


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(can_see_runs(request.user))
    run = get_object_or_404(CollectionRun.objects.select_related("triggered_by"), pk=pk)
    items = Paginator(run_items(run=run, user=request.user), 100).get_page(
        request.GET.get("page"))
    return render(request, "metrics/run_detail.html", {
        "run": run, "page": items, "quota_plan": collection_plan_shown(run),
        "can_resume": is_regional_methodologist(request.user)
        and (not run.is_finished or run.state == RunState.FAILED),
        "errors": sorted(run.errors_by_code.items(), key=lambda kv: -kv[1]),
    })


@login_required
def run_progress_json(request: HttpRequest, pk: int) -> JsonResponse:
    _require(can_see_runs(request.user))
    return JsonResponse(run_progress(get_object_or_404(CollectionRun, pk=pk)))


@login_required
@require_POST
def run_resume(request: HttpRequest, pk: int) -> HttpResponse:
    _require(is_regional_methodologist(request.user))
    run = get_object_or_404(CollectionRun, pk=pk)
    try:
        collection_run_resume(run_id=run.pk)
        messages.success(request, "Незавершённые пакеты отправлены на сбор повторно.")
    except ServiceUnavailable as exc:
        messages.error(request, exc.message)
    return redirect("metrics:collection-run", pk=run.pk)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    _require(can_manage_tokens(request.user))
    form = TokenForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            token = token_register(
                user=request.user, network=data["network"], kind=data["kind"],
                secret=data["secret"], label=data["label"], community_ids=data["communities"],
                app_key=data["app_key"], app_secret=data["app_secret"],
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Ключ «{token.label}» проверен и сохранён ({token.masked}).")
            return redirect("metrics:collection-tokens")
    listed = tokens_visible_to(request.user).annotate(community_count=Count("communities"))
    return render(request, "metrics/tokens.html", {
        "form": form, "tokens": listed, "is_regional": is_regional_methodologist(request.user),
        "now": timezone.now(),
    })


@login_required
@require_POST
def token_remove(request: HttpRequest, pk: int) -> HttpResponse:
    _require(can_manage_tokens(request.user))
    try:
        token_delete(user=request.user, token_id=pk)
        messages.success(request, "Ключ удалён.")
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect("metrics:collection-tokens")


@login_required
def help_collection(request: HttpRequest) -> HttpResponse:
    return render(request, "metrics/help_collection.html", {
        "stats_mapping": [(Indicator(m.indicator).label, m.vk, m.ok) for m in STATS_MAPPING],
        "posts_mapping": [(Indicator(m.indicator).label, m.vk, m.ok) for m in POSTS_MAPPING],
        "schedule": DEFAULT_SCHEDULE,
    })


@login_required
def anomalies(request: HttpRequest) -> HttpResponse:
    """Figures the guard held back, with their evidence, for the regional methodologist."""
    _require(is_regional_methodologist(request.user))
    held = (Anomaly.objects.filter(state=AnomalyState.HELD)
            .select_related("community__institution__territory").order_by("-day", "pk"))
    decided = (Anomaly.objects.exclude(state=AnomalyState.HELD)
               .select_related("community", "decided_by").order_by("-decided_at", "-pk")[:50])
    return render(request, "metrics/anomalies.html", {
        "page": Paginator(held, 50).get_page(request.GET.get("page")), "decided": decided,
        "share_pct": round(settings.MEMBERS_JUMP_SHARE * 100),
        "absolute": settings.MEMBERS_JUMP_ABSOLUTE,
    })


@login_required
@require_POST
def anomaly_decision(request: HttpRequest, pk: int) -> HttpResponse:
    _require(is_regional_methodologist(request.user))
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject"):
        messages.error(request, "Не выбрано решение: принять или отклонить.")
        return redirect("metrics:anomalies")
    try:
        anomaly = anomaly_decide(anomaly_id=pk, user=request.user, accept=decision == "accept")
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"«{anomaly.community}», {anomaly.day:%d.%m.%Y}: "
                                  f"{anomaly.get_state_display().lower()}.")
    return redirect("metrics:anomalies")
