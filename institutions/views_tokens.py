"""The profile page: role and scope, and API tokens (create, see once, revoke)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from institutions.apitokens import (
    TOKEN_NAME_MAX,
    api_token_create,
    api_token_list,
    api_token_revoke,
    can_have_api_tokens,
)
from institutions.models import profile_of
from portal.errors import NotFound, PortalError


def _context(request: HttpRequest, **extra) -> dict:
    profile = profile_of(request.user)
    return {
        "profile": profile,
        "scope_territories": list(profile.territories.order_by("name")) if profile else [],
        "scope_institutions": list(profile.institutions.order_by("short_name")) if profile else [],
        "tokens": list(api_token_list(user=request.user)),
        "can_have_tokens": can_have_api_tokens(request.user),
        "name_max": TOKEN_NAME_MAX,
        **extra,
    }


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """GET shows the page; POST creates a token and shows its key this one time."""
    extra: dict = {}
    if request.method == "POST":
        try:
            token, key = api_token_create(user=request.user, name=request.POST.get("name", ""))
        except PortalError as exc:
            extra["error"] = exc.message
        else:
            extra["new_token"], extra["new_key"] = token, key
    response = render(request, "institutions/profile.html", _context(request, **extra))
    response["Cache-Control"] = "no-store"  # the page may carry a key shown once
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    try:
        token = api_token_revoke(user=request.user, prefix=prefix)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(request, f"Токен «{token.name}» отозван; запросы с ним больше не примут.")
    return redirect("profile")
