"""Writes of the Table-1 workflow: saving figures and moving reports between states.

Pages, the API and the Excel import call only these; the rules live in ``reports.workflow.rules``.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from institutions.models import Institution
from metrics.choices import TABLE1_INDICATORS, Indicator, ValueSource
from metrics.services import CellKey, ValueChange, values_confirm, values_diff, values_write
from portal.errors import (
    Conflict,
    Locked,
    NotAllowed,
    NotFound,
    ValidationFailed,
)
from portal.lib.months import month_label
from reports.models import Report, ReportAction, ReportComment, ReportState
from reports.workflow import rules
from reports.workflow.notes import community_label
from reports.workflow.notifications import NOTICE_ACTIONS, return_notice_schedule
from reports.workflow.selectors import month_figures, report_has_values, report_warnings
from reports.workflow.validation import FigureError, Problem, hard_errors, parse_figure

CHANNEL_PAGE = "страница ввода"
CHANNEL_API = "API портала"
CHANNEL_IMPORT = "импорт Excel"


@dataclass
class SaveResult:
    """What a save changed (or, on a dry run, would change)."""

    changes: list[ValueChange] = field(default_factory=list)
    confirmed: int = 0
    versions: dict[dt.date, int] = field(default_factory=dict)


def _problem_dict(problem: Problem, communities: Mapping[int, str]) -> dict:
    data = problem.as_dict()
    where = [communities.get(problem.community_id, "")]
    if problem.month:
        where.append(month_label(problem.month))
    if problem.indicator and Indicator(problem.indicator).label not in problem.message:
        where.append(f"«{Indicator(problem.indicator).label}»")
    data["text"] = ", ".join(w for w in where if w) + f": {problem.message}"
    return data


def _community_labels(institution: Institution) -> dict[int, str]:
    """Names for messages: «title (ВКонтакте)», so two communities never read the same."""
    return {c.pk: community_label(c) for c in institution.communities.all()}


def _parse_cells(
    cells: Mapping[CellKey, object], communities: Mapping[int, str]
) -> dict[CellKey, int | None]:
    parsed, problems = {}, []
    for key in sorted(cells):
        community_id, month, indicator = key
        if community_id not in communities:
            raise ValidationFailed(f"Сообщество {community_id} не принадлежит учреждению.")
        if indicator not in TABLE1_INDICATORS:
            raise ValidationFailed(f"Показатель «{indicator}» не входит в Таблицу 1.")
        try:
            parsed[(community_id, month.replace(day=1), indicator)] = parse_figure(cells[key])
        except FigureError as exc:
            problems.append(Problem("not_a_figure", str(exc), community_id, month, indicator))
    if problems:
        _fail(problems, communities)
    return parsed


def _fail(problems: list[Problem], communities: Mapping[int, str]) -> None:
    details = [_problem_dict(p, communities) for p in problems]
    raise ValidationFailed(
        "Значения не сохранены: " + "; ".join(d["text"] for d in details[:5])
        + ("…" if len(details) > 5 else ""),
        details=details,
    )


def _locked_reports(institution: Institution, months: Iterable[dt.date]) -> dict:
    rows = Report.objects.select_for_update().filter(institution=institution,
                                                     month__in=set(months)).order_by("month")
    return {r.month: r for r in rows}


def _check_open(reports: Mapping[dt.date, Report], months: Iterable[dt.date]) -> None:
    approved = sorted(m for m in months if m in reports and reports[m].is_locked)
    if approved:
        raise Locked("Отчёт утверждён, значения изменить нельзя: "
                     + ", ".join(month_label(m) for m in approved) + ".",
                     details={"months": [m.strftime("%Y-%m") for m in approved]})
    in_review = sorted(m for m in months if m in reports and not reports[m].is_editable)
    if in_review:
        raise Locked("Отчёт на проверке, значения можно изменить только после возврата на "
                     "доработку: " + ", ".join(
                         f"{month_label(m)} ({reports[m].get_state_display()})"
                         for m in in_review) + ".",
                     details={"months": [m.strftime("%Y-%m") for m in in_review]})


def _check_versions(
    reports: Mapping[dt.date, Report], versions: Mapping[dt.date, int] | None,
    months: Iterable[dt.date],
) -> None:
    if versions is None:
        return
    stale = []
    for month in sorted(months):
        expected = versions.get(month)
        actual = reports[month].version if month in reports else 0
        if expected is not None and expected != actual:
            stale.append(month)
    if stale:
        raise Conflict(
            "Пока вы редактировали, данные изменил другой пользователь или сбор из API: "
            + ", ".join(month_label(m) for m in stale)
            + ". Ваши значения не сохранены и остались в форме — сверьте их с актуальными "
            "и сохраните снова.",
            details={"months": [m.strftime("%Y-%m") for m in stale]},
        )


def _check_figures(
    parsed: Mapping[CellKey, int | None], changes: list[ValueChange],
    communities: Mapping[int, str], today: dt.date,
) -> None:
    pairs = sorted({(c.community_id, c.month) for c in changes})
    merged = month_figures(community_ids={p[0] for p in pairs}, months={p[1] for p in pairs})
    wanted = set(pairs)
    for (community_id, month, indicator), value in parsed.items():
        if (community_id, month) in wanted:
            merged[(community_id, month)][indicator] = value
    problems = []
    for community_id, month in pairs:
        problems += hard_errors(community_id=community_id, month=month,
                                figures=merged.get((community_id, month), {}), today=today)
    if problems:
        _fail(problems, communities)


@transaction.atomic
def report_values_save(
    *,
    user,
    institution: Institution,
    cells: Mapping[CellKey, object],
    versions: Mapping[dt.date, int] | None = None,
    confirm: Iterable[tuple[int, dt.date]] = (),
    source: str = ValueSource.MANUAL,
    channel: str = CHANNEL_PAGE,
    dry_run: bool = False,
    today: dt.date | None = None,
    source_file: str = "",
) -> SaveResult:
    """Save typed or imported Table-1 figures of one institution, all or nothing.

    ``cells`` holds raw figures as typed (text, numbers or None for "not reported"); only
    the cells that differ from what is stored count as changes, so a re-uploaded form or a
    page with untouched cells changes nothing. ``versions`` maps months to the report version
    the writer saw (0: no report yet); a stale one raises Conflict. With ``dry_run`` every
    check runs and the answer says what would change, but nothing is written.
    """
    if not rules.can_edit_values(user, institution):
        raise NotAllowed("Вносить значения этого учреждения могут его редакторы и "
                         "региональные методисты.")
    today = today or timezone.localdate()
    communities = _community_labels(institution)
    parsed = _parse_cells(cells, communities)
    confirm = sorted({(c, m.replace(day=1)) for c, m in confirm})
    for community_id, _ in confirm:
        if community_id not in communities:
            raise ValidationFailed(f"Сообщество {community_id} не принадлежит учреждению.")
    reports = _locked_reports(institution, {k[1] for k in parsed} | {m for _, m in confirm})
    changes = values_diff(cells=parsed)
    touched = {c.month for c in changes} | {m for _, m in confirm}
    _check_open(reports, touched)
    _check_versions(reports, versions, touched)
    _check_figures(parsed, changes, communities, today)
    result = SaveResult(changes=changes)
    if dry_run:
        return result
    result.changes = values_write(
        cells={(c.community_id, c.month, c.indicator): c.new for c in changes},
        source=source, user=user, channel=channel, source_file=source_file,
    )
    for community_id, month in confirm:
        result.confirmed += values_confirm(community_id=community_id, month=month, user=user,
                                           channel=channel)
    result.versions = _bump_versions(institution, touched, reports)
    return result


def _bump_versions(
    institution: Institution, months: Iterable[dt.date], reports: Mapping[dt.date, Report]
) -> dict[dt.date, int]:
    months = set(months)
    for month in months - set(reports):
        Report.objects.get_or_create(institution=institution, month=month)
    Report.objects.filter(institution=institution, month__in=months).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    return dict(Report.objects.filter(institution=institution, month__in=months)
                .values_list("month", "version"))


# --- state changes --------------------------------------------------------------------------


def _load_for_update(report_id: int, user) -> Report:
    report = (
        Report.objects.select_for_update(of=("self",)).select_related("institution")
        .filter(pk=report_id).first()
    )
    if report is None or not rules.can_view(user, report.institution):
        raise NotFound("Отчёт не найден.")
    return report


def _stamp(report: Report, target: str, user, now: dt.datetime) -> None:
    if target == ReportState.SUBMITTED:
        report.submitted_by, report.submitted_at = user, now
        report.accepted_by = report.accepted_at = None
        report.approved_by = report.approved_at = None
    elif target == ReportState.ACCEPTED:
        report.accepted_by, report.accepted_at = user, now
    elif target == ReportState.APPROVED:
        report.approved_by, report.approved_at = user, now
    elif target == ReportState.RETURNED:
        report.accepted_by = report.accepted_at = None
        report.approved_by = report.approved_at = None


@transaction.atomic
def report_transition(
    *, user, report_id: int, action: str, comment: str = "", version: int | None = None
) -> Report:
    """Move a report along the workflow; the one place state changes happen."""
    report = _load_for_update(report_id, user)
    target = rules.transition_target(
        user=user, institution=report.institution, state=report.state, action=action
    )
    if version is not None and version != report.version:
        raise Conflict(
            f"Отчёт изменился, пока страница была открыта (сейчас версия {report.version}, "
            f"у вас {version}): обновите страницу и повторите действие."
        )
    comment = (comment or "").strip()
    if action in rules.REASON_REQUIRED and not comment:
        raise ValidationFailed("Укажите причину: без комментария вернуть или переоткрыть "
                               "отчёт нельзя.")
    warnings = _submit_checks(report, comment) if action == ReportAction.SUBMIT else []
    source_state = report.state
    _stamp(report, target, user, timezone.now())
    report.state, report.version = target, report.version + 1
    report._history_user = user
    report._change_reason = f"{ReportAction(action).label}: {comment}"[:100]
    report.save()
    trail = ReportComment.objects.create(
        report=report, action=action, from_state=source_state, to_state=target, text=comment,
        warnings=_warning_dicts(report, warnings), author=user,
    )
    if action in NOTICE_ACTIONS:
        return_notice_schedule(comment=trail)
    return report


def _warning_dicts(report: Report, warnings: list[Problem]) -> list[dict]:
    if not warnings:
        return []
    labels = _community_labels(report.institution)
    return [_problem_dict(w, labels) for w in warnings]


def _submit_checks(report: Report, comment: str) -> list[Problem]:
    if not report_has_values(report=report):
        raise ValidationFailed("Нечего отправлять: в отчёте нет ни одного значения.")
    warnings = report_warnings(institution=report.institution, month=report.month)
    if warnings and not comment:
        communities = _community_labels(report.institution)
        details = [_problem_dict(w, communities) for w in warnings]
        raise ValidationFailed(
            "В отчёте есть предупреждения — поясните их в комментарии при отправке: "
            + "; ".join(d["text"] for d in details),
            details=details,
        )
    return warnings


def report_submit(*, user, report_id: int, comment: str = "", version: int | None = None
                  ) -> Report:
    """Send a draft or returned report for review (a comment answers any warnings)."""
    return report_transition(user=user, report_id=report_id, action=ReportAction.SUBMIT,
                             comment=comment, version=version)


def report_accept(*, user, report_id: int, comment: str = "", version: int | None = None
                  ) -> Report:
    """The municipal department accepts a submitted report of its territory."""
    return report_transition(user=user, report_id=report_id, action=ReportAction.ACCEPT,
                             comment=comment, version=version)


def report_approve(*, user, report_id: int, comment: str = "", version: int | None = None
                   ) -> Report:
    """A regional methodologist approves the report; its month is locked from then on."""
    return report_transition(user=user, report_id=report_id, action=ReportAction.APPROVE,
                             comment=comment, version=version)


def report_return(*, user, report_id: int, comment: str, version: int | None = None
                  ) -> Report:
    """A reviewer sends the report back for rework, saying why."""
    return report_transition(user=user, report_id=report_id, action=ReportAction.RETURN,
                             comment=comment, version=version)


def report_reopen(*, user, report_id: int, comment: str, version: int | None = None
                  ) -> Report:
    """A regional methodologist unlocks an approved report, stating the reason."""
    return report_transition(user=user, report_id=report_id, action=ReportAction.REOPEN,
                             comment=comment, version=version)


ACTIONS = {
    ReportAction.SUBMIT: report_submit,
    ReportAction.ACCEPT: report_accept,
    ReportAction.APPROVE: report_approve,
    ReportAction.RETURN: report_return,
    ReportAction.REOPEN: report_reopen,
}


@transaction.atomic
def report_comment_add(*, user, report_id: int, text: str) -> ReportComment:
    """A comment on a report from anyone who works on it (editor or reviewer)."""
    report = _load_for_update(report_id, user)
    if not rules.roles_for(user, report.institution):
        raise NotAllowed("Комментировать отчёт могут его редакторы и проверяющие.")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("Комментарий пуст.")
    return ReportComment.objects.create(
        report=report, action=ReportAction.COMMENT, from_state=report.state,
        to_state=report.state, text=text, author=user,
    )


def reports_by_institution(cells: Mapping[CellKey, object],
                           owners: Mapping[int, int]) -> dict[int, dict]:
    """Split cells keyed by community into one mapping per institution id."""
    out: dict[int, dict] = defaultdict(dict)
    for key, raw in cells.items():
        out[owners[key[0]]][key] = raw
    return out


# --- the API's bulk upsert ------------------------------------------------------------------


@dataclass(frozen=True)
class ValueItem:
    """One figure sent through the API; ``version`` is the report version the client saw."""

    community_id: int
    month: dt.date
    indicator: str
    value: object
    version: int | None = None


@dataclass
class BulkResult:
    """Changes of a bulk upsert and the new report versions ``{(institution, month): n}``."""

    changes: list[ValueChange] = field(default_factory=list)
    versions: dict[tuple[int, dt.date], int] = field(default_factory=dict)


@transaction.atomic
def values_bulk_upsert(*, user, items: list[ValueItem], dry_run: bool = False,
                       source: str = ValueSource.MANUAL, source_file: str = "") -> BulkResult:
    """Upsert figures of any number of institutions, all or nothing (``dry_run``: only say)."""
    from institutions.models import Community

    communities = {c.pk: c for c in Community.objects.visible_to(user).select_related(
        "institution").filter(pk__in={i.community_id for i in items})}
    missing = sorted({i.community_id for i in items} - set(communities))
    if missing:
        raise ValidationFailed(f"Сообщества не найдены среди доступных вам: "
                               f"{', '.join(map(str, missing))}.", details={"missing": missing})
    groups: dict[int, list[ValueItem]] = defaultdict(list)
    for item in items:
        groups[communities[item.community_id].institution_id].append(item)
    total = BulkResult()
    for group in groups.values():
        institution = communities[group[0].community_id].institution
        saved = report_values_save(
            user=user, institution=institution, channel=CHANNEL_API, dry_run=dry_run,
            cells={(i.community_id, i.month, i.indicator): i.value for i in group},
            versions=_item_versions(group), source=source, source_file=source_file,
        )
        total.changes += saved.changes
        total.versions |= {(institution.pk, m): v for m, v in saved.versions.items()}
    return total


def _item_versions(items: list[ValueItem]) -> dict[dt.date, int] | None:
    versions: dict[dt.date, int] = {}
    for item in items:
        if item.version is None:
            continue
        if versions.setdefault(item.month, item.version) != item.version:
            raise ValidationFailed(f"Для {month_label(item.month)} указаны разные версии отчёта.")
    return versions or None
