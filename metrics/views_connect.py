"""«Подключить VK» / «Подключить ОК» pages and the methodologist's token coverage."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from institutions.choices import Network
from institutions.models import is_regional_methodologist
from metrics.coverage import EXPIRES_SOON_DAYS, communities_with_coverage, coverage_summary
from metrics.oauth import oauth_finish, oauth_start
from metrics.tokens import can_manage_tokens, tokens_visible_to
from portal.errors import PortalError

SESSION_KEY = "network_oauth"
FILTERS = {"missing": {"has_stats_token": False}, "covered": {"has_stats_token": True}}


def _network(network: str) -> str:
    if network not in Network.values:
        raise Http404("Неизвестная соцсеть.")
    return network


@login_required
def connect_start(request: HttpRequest, network: str) -> HttpResponse:
    """Send the person to the network to allow access; the answer comes to ``connect_done``."""
    if not can_manage_tokens(request.user):
        raise PermissionDenied("Подключать аккаунты могут методисты и редакторы учреждений.")
    callback = request.build_absolute_uri(reverse("metrics:connect-done",
                                                  args=[_network(network)]))
    try:
        url, kept = oauth_start(network=network, redirect_uri=callback)
    except PortalError as exc:
        messages.error(request, exc.message)
        return redirect("metrics:collection-tokens")
    request.session[SESSION_KEY] = kept
    return redirect(url)


@login_required
def connect_done(request: HttpRequest, network: str) -> HttpResponse:
    if not can_manage_tokens(request.user):
        raise PermissionDenied("Подключать аккаунты могут методисты и редакторы учреждений.")
    kept = request.session.pop(SESSION_KEY, None)
    if kept and kept.get("network") != _network(network):
        kept = None
    try:
        token = oauth_finish(user=request.user, kept=kept, params=request.GET.dict())
    except PortalError as exc:
        messages.error(request, exc.message)
        return redirect("metrics:collection-tokens")
    return redirect("metrics:connect-result", pk=token.pk)


@login_required
def connect_result(request: HttpRequest, pk: int) -> HttpResponse:
    """What the connected account gives: the registered communities it administers."""
    if not can_manage_tokens(request.user):
        raise PermissionDenied("Подключать аккаунты могут методисты и редакторы учреждений.")
    token = tokens_visible_to(request.user).filter(pk=pk).first()
    if token is None:
        raise Http404("Ключ не найден.")
    communities = token.communities.select_related("institution").order_by("title", "pk")
    return render(request, "metrics/connect_result.html",
                  {"token": token, "communities": communities})


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    """Which communities have a statistics-capable token, which do not, which expire soon."""
    if not is_regional_methodologist(request.user):
        raise PermissionDenied("Покрытие ключами видят региональные методисты.")
    communities = communities_with_coverage(user=request.user)
    summary = coverage_summary(communities=communities)
    shown = request.GET.get("show", "missing")
    if shown == "expiring":
        soon = timezone.now() + dt.timedelta(days=EXPIRES_SOON_DAYS)
        listed = communities.filter(has_stats_token=True, never_expires=False,
                                    token_expires__lte=soon)
    else:
        listed = communities.filter(**FILTERS.get(shown, FILTERS["missing"]))
    page = Paginator(listed, 50).get_page(request.GET.get("page"))
    return render(request, "metrics/coverage.html", {
        "summary": summary, "page": page, "shown": shown, "query": f"show={shown}",
        "soon_days": EXPIRES_SOON_DAYS})
