"""Which Table-1 values analytics count: by default only those of approved reports.

A region may widen that (``ANALYTICS_REPORT_STATES``: approved | accepted | all) and a page or an
API call may ask for another choice; every ranking, summary, chart and export says which one it
counted and how many values of the period are still not approved.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import ngettext

from institutions.models import Community
from metrics.choices import TABLE1_INDICATORS
from metrics.models import MetricValue
from portal.errors import ValidationFailed
from reports.models import Report, ReportState

APPROVED, ACCEPTED, ALL = "approved", "accepted", "all"
COUNTING_CHOICES = [
    (APPROVED, "только утверждённые отчёты"),
    (ACCEPTED, "принятые муниципалитетом и утверждённые отчёты"),
    (ALL, "все значения, включая черновики и возвращённые"),
]
# What the pages and files say was counted.
COUNTING_LINES = {
    APPROVED: "Учтены значения Таблицы 1 только из утверждённых отчётов.",
    ACCEPTED: "Учтены значения Таблицы 1 из принятых муниципалитетом и утверждённых отчётов.",
    ALL: "Учтены все значения Таблицы 1, включая черновики и возвращённые отчёты.",
}
COUNTED_STATES: dict[str, list[str]] = {
    APPROVED: [ReportState.APPROVED],
    ACCEPTED: [ReportState.ACCEPTED, ReportState.APPROVED],
    ALL: list(ReportState.values),
}
TABLE1 = [str(i) for i in TABLE1_INDICATORS]
# What a ranking of collected figures (members, posts, likes…) says instead: no report's state
# changes it, so there is nothing awaiting approval to count or leave out.
NOT_TABLE1_LINE = ("Показатель считается по собранным данным сообществ: значения Таблицы 1 и "
                   "утверждение отчётов на него не влияют.")


def default_counting() -> str:
    """The region's choice (``ANALYTICS_REPORT_STATES``); a wrong value is refused loudly."""
    choice = str(getattr(settings, "ANALYTICS_REPORT_STATES", APPROVED)).strip().lower()
    return checked_counting(choice)


def checked_counting(choice: str) -> str:
    if choice not in COUNTED_STATES:
        raise ValidationFailed(
            f"Неизвестный выбор учитываемых отчётов: «{choice}». Допустимо: "
            + ", ".join(f"{code} — {label}" for code, label in COUNTING_CHOICES) + ".",
            details={"states": "approved, accepted или all"})
    return choice


def counted_states(choice: str) -> list[str]:
    """The report states whose values count under ``choice`` (``all``: every value)."""
    return list(COUNTED_STATES[choice])


def counted_q(choice: str, prefix: str = "") -> Q:
    """A filter on ``MetricValue`` rows: Table-1 values count only under a counted report.

    Collected extras (posts, likes…) are no part of a report and always count. Under ``all``
    a value counts whatever its report, even with no report at all.
    """
    if choice == ALL:
        return Q()
    reported = Report.objects.filter(
        institution_id=OuterRef(f"{prefix}community__institution_id"),
        month=OuterRef(f"{prefix}month"), state__in=counted_states(choice))
    return ~Q(**{f"{prefix}indicator__in": TABLE1}) | Q(Exists(reported))


def pending_values(*, communities: QuerySet[Community], first_month: dt.date,
                   last_month: dt.date) -> int:
    """Table-1 figures of the period whose report is not approved yet (one query)."""
    approved = Report.objects.filter(institution_id=OuterRef("community__institution_id"),
                                     month=OuterRef("month"), state=ReportState.APPROVED)
    return (MetricValue.objects
            .filter(community__in=communities.order_by().values("pk"), indicator__in=TABLE1,
                    month__gte=first_month, month__lte=last_month, value__isnull=False)
            .exclude(Exists(approved)).count())


def counting_line(choice: str, pending: int | None = None) -> str:
    """What a page, file or answer counted, in words a methodologist reads."""
    line = COUNTING_LINES[choice]
    if pending is None:
        return line
    return f"{line} {pending_line(choice, pending)}"


def pending_line(choice: str, pending: int | None) -> str:
    """How many values of the period await approval and whether they were counted.

    ``None``: the figure reads no Table-1 values (``NOT_TABLE1_LINE``).
    """
    if pending is None:
        return NOT_TABLE1_LINE
    if not pending:
        return "Неутверждённых значений за период нет."
    counted = "в расчёт не вошли" if choice == APPROVED else "учтены, но ещё могут измениться"
    text = ngettext("Ждут утверждения: %(n)s значение за период",
                    "Ждут утверждения: %(n)s значений за период", pending) % {
        "n": f"{pending:,}".replace(",", "\u00a0")}
    return f"{text} ({counted})."


STATE_PLURALS = {
    ReportState.DRAFT: "черновики", ReportState.SUBMITTED: "отправленные",
    ReportState.ACCEPTED: "принятые муниципалитетом", ReportState.APPROVED: "утверждённые",
    ReportState.RETURNED: "возвращённые на доработку",
}


def states_text(states: list[str]) -> str:
    """Frozen report states in words («принятые муниципалитетом, утверждённые»)."""
    if not states:
        return "не записано (опубликовано до учёта состояний)"
    return ", ".join(STATE_PLURALS.get(s, s) for s in states)


def choice_of(states: list[str]) -> str | None:
    """The choice that counts exactly these states (None for a list no choice makes)."""
    return next((c for c, s in COUNTED_STATES.items() if sorted(s) == sorted(states)), None)


def counting_json(choice: str, pending: int | None) -> dict[str, object]:
    """The same for API answers (``pending`` None: the figure reads no Table-1 values)."""
    text = NOT_TABLE1_LINE if pending is None else counting_line(choice, pending)
    return {"choice": choice, "states": counted_states(choice), "pending": pending,
            "text": text}
