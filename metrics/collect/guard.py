"""The plausibility guard: implausible collected figures are held, not written.

A members figure that moves in a day by more than both thresholds (``MEMBERS_JUMP_SHARE`` of
the previous figure and ``MEMBERS_JUMP_ABSOLUTE`` people), a new name that does not resemble
the old one, and an id that now answers with another community (new name and new short name)
are kept as an ``Anomaly`` with their evidence. Rankings and summaries read snapshots and titles,
so a held figure counts nowhere until a regional methodologist accepts it; a rejected one never
does. Screening the same day twice finds the same anomalies (one row each).
"""

from __future__ import annotations

import datetime as dt
import re
from difflib import SequenceMatcher
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from institutions.history import community_history_record
from institutions.models import Community, is_regional_methodologist
from metrics.collect.choices import AnomalyKind, AnomalyState
from metrics.collect.fetch import BatchResult
from metrics.models import Anomaly, CollectionRun, MemberSnapshot
from portal.errors import Conflict, NotAllowed, NotFound

_WORDS = re.compile(r"[^\w]+")


def _normal(name: str) -> str:
    return " ".join(_WORDS.sub(" ", name.lower().replace("ё", "е")).split())


def names_resemble(old: str, new: str) -> bool:
    """Whether a new name is plausibly the same community renamed (not another one)."""
    a, b = _normal(old), _normal(new)
    if not a or not b or a in b or b in a:
        return True
    return SequenceMatcher(None, a, b).ratio() >= 0.6


def members_jump_implausible(previous: int, current: int) -> bool:
    """Beyond both thresholds: a share of the previous figure and a number of people."""
    change = abs(current - previous)
    share = change / previous if previous else float("inf")
    return (change > settings.MEMBERS_JUMP_ABSOLUTE
            and share > settings.MEMBERS_JUMP_SHARE)


def _registry(ids: set[int], day: dt.date) -> dict[int, tuple[str, str, int | None, Any]]:
    """Title, short name and the last members figure before ``day`` of each community."""
    before = MemberSnapshot.objects.filter(community_id=OuterRef("pk"),
                                           date__lt=day).order_by("-date")
    rows = (Community.objects.filter(pk__in=ids)
            .annotate(prev_members=Subquery(before.values("members")[:1]),
                      prev_date=Subquery(before.values("date")[:1]))
            .values_list("pk", "title", "screen_name", "prev_members", "prev_date"))
    return {pk: (title, screen, members, date) for pk, title, screen, members, date in rows}


def _name_kind(title: str, screen: str, fields: dict[str, Any]) -> str | None:
    new_title = fields.get("title")
    if new_title is None or not title or names_resemble(title, new_title):
        return None
    new_screen = fields.get("screen_name")
    if new_screen is not None and screen and new_screen != screen:
        return AnomalyKind.IDENTITY
    return AnomalyKind.RENAME


class _Screen:
    """One batch's screening: what is held, what was already decided."""

    def __init__(self, run: CollectionRun, source: str, decided: dict[tuple[int, str], str]):
        self.run, self.source, self.decided = run, source, decided
        self.held: list[Anomaly] = []

    def hold(self, pk: int, kind: str, **evidence: Any) -> bool:
        """Whether to keep the figure back: held now or rejected before; accepted passes."""
        state = self.decided.get((pk, kind))
        if state == AnomalyState.ACCEPTED:
            return False
        if state is None:
            self.held.append(Anomaly(community_id=pk, kind=kind, day=self.run.period,
                                     source=self.source, run=self.run, **evidence))
        return True


def _screen_one(screen: _Screen, pk: int, known: tuple, result: BatchResult) -> None:
    title, screen_name, prev_members, prev_date = known
    fields = result.community_fields.get(pk, {})
    members = result.snapshots.get(pk)
    evidence = {"previous_members": prev_members, "previous_date": prev_date,
                "members": members, "previous_title": title,
                "title": fields.get("title", title), "previous_screen_name": screen_name,
                "screen_name": fields.get("screen_name", screen_name)}
    # A community never collected before takes the network's name: the registry's was typed.
    kind = _name_kind(title, screen_name, fields) if prev_members is not None else None
    if kind and screen.hold(pk, kind, **evidence):
        fields.pop("title", None)
        if kind == AnomalyKind.IDENTITY:
            fields.pop("screen_name", None)
            fields.pop("members_count", None)
            result.snapshots.pop(pk, None)
            return
    if (members is not None and prev_members is not None
            and members_jump_implausible(prev_members, members)
            and screen.hold(pk, AnomalyKind.MEMBERS_JUMP, **evidence)):
        fields.pop("members_count", None)
        result.snapshots.pop(pk, None)


def members_screen(*, run: CollectionRun, source: str, result: BatchResult) -> int:
    """Take implausible figures and names out of a members batch; return how many were held."""
    ids = set(result.snapshots) | {pk for pk, f in result.community_fields.items() if "title" in f}
    if not ids:
        return 0
    known = _registry(ids, run.period)
    decided = dict(((pk, kind), state) for pk, kind, state in Anomaly.objects.filter(
        community_id__in=ids, day=run.period).exclude(state=AnomalyState.HELD)
        .values_list("community_id", "kind", "state"))
    screen = _Screen(run, source, decided)
    for pk in sorted(ids):
        if pk in known:
            _screen_one(screen, pk, known[pk], result)
    Anomaly.objects.bulk_create(
        screen.held, update_conflicts=True, unique_fields=["community", "day", "kind"],
        update_fields=["source", "run", "previous_members", "previous_date", "members",
                       "previous_title", "title", "previous_screen_name", "screen_name"])
    return len(screen.held)


# --- Decisions --------------------------------------------------------------------------------


def _apply(anomaly: Anomaly) -> None:
    """Write what an accepted anomaly held back: the day's figure, the new name."""
    community = Community.objects.select_for_update().get(pk=anomaly.community_id)
    if anomaly.members is not None and anomaly.kind != AnomalyKind.RENAME:
        MemberSnapshot.objects.update_or_create(community=community, date=anomaly.day,
                                                defaults={"members": anomaly.members})
        latest = community.snapshots.order_by("-date").values_list("date", flat=True).first()
        if latest == anomaly.day:
            community.members_count = anomaly.members
    if anomaly.kind in (AnomalyKind.RENAME, AnomalyKind.IDENTITY) and anomaly.title:
        community_history_record(before={community.pk: (community.state, community.title)},
                                 after={community.pk: (community.state, anomaly.title)},
                                 on=anomaly.day)
        community.title = anomaly.title
        if anomaly.kind == AnomalyKind.IDENTITY and anomaly.screen_name:
            community.screen_name = anomaly.screen_name
    community.save(update_fields=["members_count", "title", "screen_name", "updated_at"])


@transaction.atomic
def anomaly_decide(*, anomaly_id: int, user, accept: bool) -> Anomaly:
    """Accept (write the held figure) or reject (never write it) an anomaly."""
    if not is_regional_methodologist(user):
        raise NotAllowed("Решать о подозрительных значениях может только региональный методист.")
    anomaly = Anomaly.objects.select_for_update().filter(pk=anomaly_id).first()
    if anomaly is None:
        raise NotFound("Такого подозрительного значения нет.")
    if anomaly.state != AnomalyState.HELD:
        raise Conflict(f"Решение уже принято: «{anomaly.get_state_display()}».")
    if accept:
        _apply(anomaly)
    anomaly.state = AnomalyState.ACCEPTED if accept else AnomalyState.REJECTED
    anomaly.decided_by, anomaly.decided_at = user, timezone.now()
    anomaly.save(update_fields=["state", "decided_by", "decided_at"])
    return anomaly
