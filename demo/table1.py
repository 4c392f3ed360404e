"""Demo Table-1 history: two years of monthly figures and reports in every state.

Deterministic (seeded per community and institution), idempotent (a region that already has
reports for last month is left alone) and fast on SQLite: rows go in with ``bulk_create``.
A few communities get figures that raise warnings, so reviewers have something to look at.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from demo.network import members_on
from institutions.choices import CommunityState
from institutions.models import Community, Institution
from metrics.choices import Indicator, ValueSource
from metrics.models import MetricValue
from portal.lib.months import add_months, month_end
from reports.models import Report, ReportAction, ReportComment, ReportState

MONTHS = 24
BATCH = 5000
S = ReportState

# Share of reports in each state for the last three months (older months are approved).
RECENT_STATES = [
    [(S.DRAFT, 20), (S.SUBMITTED, 25), (S.ACCEPTED, 20), (S.APPROVED, 10), (S.RETURNED, 10),
     (None, 15)],
    [(S.SUBMITTED, 10), (S.ACCEPTED, 25), (S.APPROVED, 60), (S.RETURNED, 5)],
    [(S.ACCEPTED, 10), (S.APPROVED, 90)],
]
RETURN_REASONS = [
    "Уникальных посетителей почти столько же, сколько посещений — проверьте статистику.",
    "Не заполнено число участников ОК-группы.",
    "Просмотры стены выглядят заниженными, сверьте со страницей статистики VK.",
]
WARNING_NOTES = [
    "Резкий рост: в месяце прошёл районный фестиваль, анонсы разошлись по соседним группам.",
    "Провели чистку от неактивных и заблокированных участников.",
]


def _month_figures(rng: random.Random, members: int) -> dict[str, int]:
    visits = int(members * rng.uniform(0.3, 1.6))
    unique = int(visits * rng.uniform(0.35, 0.8))
    return {
        Indicator.MEMBERS: members,
        Indicator.VISITS: visits,
        Indicator.UNIQUE_VISITORS: unique,
        Indicator.WALL_VIEWS: int(visits * rng.uniform(2.5, 8.0)),
        Indicator.FEEDBACK: int(visits * rng.uniform(0.01, 0.08)),
    }


def _oddity(rng: random.Random, figures: dict[str, int], previous: dict[str, int]) -> dict:
    """Turn an ordinary month into one that raises a warning (jump, drop, zeros, repeat)."""
    kind = rng.choice(["jump", "drop", "zeros", "repeat"])
    if kind == "jump":
        return {**figures, Indicator.VISITS: figures[Indicator.VISITS] * 4,
                Indicator.WALL_VIEWS: figures[Indicator.WALL_VIEWS] * 5}
    if kind == "drop":
        return {**figures, Indicator.MEMBERS: int(previous[Indicator.MEMBERS] * 0.7)}
    if kind == "zeros":
        return dict.fromkeys(figures, 0)
    return dict(previous)


def _members(community: Community, month: dt.date) -> int:
    """Members on the month's last day as the emulator (and the daily history) has them."""
    return members_on(community.network, community.network_id or community.pk,
                      month_end(month))


def _community_values(community: Community, months: list[dt.date], now) -> list[tuple]:
    """Rows for ``VALUE_COLUMNS``; ``now`` comes already adapted for the database."""
    rng = random.Random(community.network_id or community.pk)
    from_api = community.network == "vk" and rng.random() < 0.35
    odd_month = months[-1] if rng.random() < 0.04 else None
    source = ValueSource.VK_API if from_api else ValueSource.MANUAL
    rows, previous = [], None
    adapt = connection.ops.adapt_datefield_value
    for month in months:
        figures = _month_figures(rng, _members(community, month))
        if month == odd_month and previous:
            figures = _oddity(rng, figures, previous)
        previous = figures
        confirmed = from_api and rng.random() < 0.7
        rows += [(community.pk, adapt(month), str(indicator), value, str(source), now,
                  value if from_api else None, str(source) if from_api else "",
                  now if from_api else None, confirmed)
                 for indicator, value in figures.items()]
    return rows


VALUE_COLUMNS = ["community", "month", "indicator", "value", "source", "updated_at",
                 "api_value", "api_source", "api_collected_at", "is_confirmed"]
REPORT_COLUMNS = ["institution", "month", "state", "version", "submitted_at", "accepted_at",
                  "approved_at", "created_at", "updated_at"]


def _fast_insert(model, columns: list[str], rows: list[tuple]) -> None:
    """Plain ``INSERT … ON CONFLICT DO NOTHING`` in batches: the ORM is too slow for 100k+
    demo rows on SQLite. Values must already be adapted for the database."""
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(model._meta.get_field(c).column) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start:start + BATCH])


def _report_state(rng: random.Random, age: int, institution: Institution) -> str | None:
    """The demo state of a report ``age`` months before the current month (1 = last month)."""
    if age > len(RECENT_STATES):
        return S.APPROVED
    states, weights = zip(*RECENT_STATES[age - 1], strict=True)
    state = rng.choices(states, weights)[0]
    if state == S.ACCEPTED and institution.skips_municipal_review:
        return S.SUBMITTED
    return state


def _reports(institutions: list[Institution], months: list[dt.date], now,
             editable: set[int]) -> list[tuple]:
    """Rows for ``REPORT_COLUMNS``; ``now`` is adapted, months are plain dates."""
    rows = []
    for institution in institutions:
        rng = random.Random(institution.pk * 31)
        for age, month in enumerate(reversed(months), start=1):
            state = _report_state(rng, age, institution)
            if institution.pk in editable and age <= 2:
                state = S.DRAFT if age == 1 else S.RETURNED  # the demo editor has work to do
            if state is None:
                continue
            stamps = _stamps(state)
            moments = _review_moments(rng, month, now)
            rows.append((institution.pk, connection.ops.adapt_datefield_value(month),
                         str(state), 2 + len(stamps),
                         *(moments[name] if name in stamps else None
                           for name in ("submitted", "accepted", "approved")), now, now))
    return rows


def _review_moments(rng: random.Random, month: dt.date, now) -> dict:
    """Plausible review dates: most reports sent in the first days of the next month (some
    after the deadline), accepted and approved a few days later; never after ``now``."""
    sent = dt.datetime.combine(add_months(month, 1), dt.time(10)) + dt.timedelta(
        days=rng.choice([0, 1, 2, 3, 3, 4, 4, 6, 9]))
    moments = {"submitted": sent, "accepted": sent + dt.timedelta(days=2),
               "approved": sent + dt.timedelta(days=5)}
    latest = timezone.localtime().replace(tzinfo=None)
    return {name: connection.ops.adapt_datetimefield_value(timezone.make_aware(min(m, latest)))
            for name, m in moments.items()}


def _stamps(state: str) -> list[str]:
    return {S.SUBMITTED: ["submitted"], S.ACCEPTED: ["submitted", "accepted"],
            S.APPROVED: ["submitted", "accepted", "approved"],
            S.RETURNED: ["submitted"]}.get(state, [])


def _comments(reports: list[Report], last_month: dt.date, reviewer=None) -> list[ReportComment]:
    rows = []
    for report in reports:
        rng = random.Random(report.pk)
        if report.state == S.RETURNED:
            rows.append(ReportComment(report=report, action=ReportAction.RETURN,
                                      from_state=S.SUBMITTED, to_state=S.RETURNED,
                                      text=rng.choice(RETURN_REASONS), author=reviewer))
        elif (report.month == last_month and report.state != S.DRAFT
              and rng.random() < 0.05):  # answered warnings
            rows.append(ReportComment(report=report, action=ReportAction.SUBMIT,
                                      from_state=S.DRAFT, to_state=S.SUBMITTED,
                                      text=rng.choice(WARNING_NOTES)))
    return rows


def _joined_before(institutions: list[Institution], first_month: dt.date) -> None:
    """The demo region has been in the registry since its history starts, so completeness
    (due only from the month an institution joined) counts the whole history."""
    joined = timezone.make_aware(dt.datetime.combine(first_month, dt.time(9)))
    Institution.objects.filter(pk__in=[i.pk for i in institutions]).update(created_at=joined)
    Community.objects.filter(institution__in=institutions).update(created_at=joined)


@transaction.atomic
def seed_table1_history(*, today: dt.date | None = None) -> dict[str, int]:
    """Two years of Table-1 figures and reports for the demo region; return rows added."""
    today = today or timezone.localdate()
    last_month = add_months(today.replace(day=1), -1)
    months = [add_months(last_month, -n) for n in reversed(range(MONTHS))]
    institutions = list(Institution.objects.filter(is_active=True).order_by("pk"))
    if not institutions or Report.objects.filter(month=last_month).exists():
        return {"values": 0, "reports": 0}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    communities = Community.objects.filter(institution__in=institutions,
                                           state=CommunityState.ACTIVE).order_by("pk")
    values = [row for c in communities for row in _community_values(c, months, now)]
    _fast_insert(MetricValue, VALUE_COLUMNS, values)
    editable = set(Institution.objects.filter(
        userprofile__user__username="editor").values_list("pk", flat=True))
    reports = _reports(institutions, months, now, editable)
    _fast_insert(Report, REPORT_COLUMNS, reports)
    saved = list(Report.objects.filter(
        Q(state=S.RETURNED) | Q(month=last_month, state__in=[S.SUBMITTED, S.ACCEPTED,
                                                              S.APPROVED])))
    reviewer = get_user_model().objects.filter(username="methodist").first()
    ReportComment.objects.bulk_create(_comments(saved, last_month, reviewer), batch_size=BATCH)
    _joined_before(institutions, months[0])
    return {"values": len(values), "reports": len(reports)}
