"""«Мои задачи»: the first page after login, built for each role's job."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from institutions.choices import Role
from institutions.models import profile_of
from institutions.selectors import registry_counts
from reports.home.editor import editor_tasks
from reports.home.reviewers import (
    WAITING_SHOWN,
    anomalies_to_review,
    collection_health,
    month_picture,
    waiting_for_acceptance,
    waiting_for_approval,
)
from reports.home.standing import community_standings


def _role(user) -> str:
    if user.is_superuser and user.is_active:
        return Role.REGIONAL_METHODOLOGIST
    profile = profile_of(user)
    return profile.role if profile else ""


def _editor(user, today) -> dict:
    tasks = editor_tasks(user=user, today=today)
    communities = [c for t in tasks for c in t.communities]
    return {"tasks": tasks, "standings": community_standings(communities=communities),
            "open_count": sum(len(t.months) for t in tasks)}


def _waiting(queryset) -> dict:
    rows = list(queryset[:WAITING_SHOWN + 1])
    return {"waiting": rows[:WAITING_SHOWN], "waiting_more": len(rows) > WAITING_SHOWN,
            "waiting_count": queryset.count() if len(rows) > WAITING_SHOWN else len(rows)}


def _municipal(user, today) -> dict:
    return {**_waiting(waiting_for_acceptance(user=user)),
            "picture": month_picture(user=user, today=today)}


def _regional(user, today) -> dict:
    return {**_waiting(waiting_for_approval(user=user)),
            "picture": month_picture(user=user, today=today), "health": collection_health(),
            "anomalies": anomalies_to_review(user=user)}


BUILDERS = {Role.EDITOR: _editor, Role.MUNICIPAL: _municipal,
            Role.REGIONAL_METHODOLOGIST: _regional}


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The role's tasks first, then the registry at a glance."""
    user = request.user
    role = _role(user)
    profile = profile_of(user)
    today = timezone.localdate()
    context = {
        "role": role, "profile": profile, "today": today,
        "counts": registry_counts(user=user),
        "scope_territories": list(profile.territories.order_by("name")) if profile else [],
        "scope_institutions": list(profile.institutions.order_by("short_name"))
        if profile else [],
    }
    builder = BUILDERS.get(role)
    if builder is not None:
        context |= builder(user, today)
    return render(request, "reports/home.html", context)
