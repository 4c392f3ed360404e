"""Reads of the collection for pages and the API, always scoped to what the user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from institutions.models import Community, profile_of, sees_whole_region
from metrics.collect.quota_plan import collection_plan_shown
from metrics.models import CollectionRun, CollectionRunItem


def can_see_runs(user) -> bool:
    """Every user with a role (and superusers) may follow the collection."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    return profile_of(user) is not None


def runs_list() -> QuerySet[CollectionRun]:
    return CollectionRun.objects.select_related("triggered_by").order_by("-created_at", "-pk")


def run_items(*, run: CollectionRun, user) -> QuerySet[CollectionRunItem]:
    """The run's failed and skipped communities that the user may see."""
    items = (CollectionRunItem.objects.filter(run=run)
             .select_related("community__institution__territory")
             .order_by("community__institution__short_name", "community_id"))
    if sees_whole_region(user):
        return items
    return items.filter(community__in=Community.objects.visible_to(user).values("pk"))


def run_progress(run: CollectionRun) -> dict:
    """What the progress bar polls, with the plan while the run is open."""
    return {
        "quota_plan": plan.as_json() if (plan := collection_plan_shown(run)) else None,
        "resumes_at": run.resumes_at.isoformat() if run.resumes_at else None,
        "id": run.pk, "state": run.state, "state_label": run.get_state_display(),
        "total": run.total, "done": run.done, "failed": run.failed, "skipped": run.skipped,
        "processed": run.processed, "percent": run.percent, "requests": run.requests,
        "errors_by_code": run.errors_by_code, "message": run.message,
        "finished": run.is_finished,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
