"""Review many reports at once: one action and one comment, each report its own transaction.

A refusal of one report (wrong state, wrong role, changed meanwhile) does not stop the others; the
answer lists what changed and what was refused and why, so nothing happens silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from portal.errors import PortalError, ValidationFailed
from reports.models import Report, ReportAction
from reports.workflow import rules
from reports.workflow.services import ACTIONS

BULK_ACTIONS = (ReportAction.ACCEPT, ReportAction.APPROVE, ReportAction.RETURN)
BULK_LIMIT = 1000
NOT_FOUND = "Отчёт не найден или недоступен вам."


@dataclass
class Refusal:
    report_id: int
    report: Report | None
    reason: str


@dataclass
class BulkOutcome:
    """What a bulk action changed and what it refused, report by report."""

    action: str
    changed: list[Report] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def action_label(self) -> str:
        return ReportAction(self.action).label


def _checked(action: str, comment: str, ids: list[int]) -> str:
    if action not in BULK_ACTIONS:
        raise ValidationFailed("Выберите действие: принять, утвердить или вернуть на доработку.")
    comment = (comment or "").strip()
    if action in rules.REASON_REQUIRED and not comment:
        raise ValidationFailed("Укажите причину возврата: она будет видна учреждениям в каждом "
                               "возвращённом отчёте.")
    if not ids:
        raise ValidationFailed("Не выбрано ни одного отчёта.")
    if len(ids) > BULK_LIMIT:
        raise ValidationFailed(f"За один раз можно обработать не больше {BULK_LIMIT} отчётов, "
                               f"выбрано {len(ids)}: сузьте фильтр.")
    return comment


def reports_bulk_transition(*, user, report_ids: Iterable[int], action: str,
                            comment: str = "") -> BulkOutcome:
    """Apply ``action`` to every listed report the user sees, each in its own transaction."""
    ids = list(dict.fromkeys(int(i) for i in report_ids))
    comment = _checked(action, comment, ids)
    found = {r.pk: r for r in Report.objects.visible_to(user).filter(pk__in=ids)
             .select_related("institution__territory")}
    outcome = BulkOutcome(action)
    for report_id in ids:
        report = found.get(report_id)
        if report is None:
            outcome.refused.append(Refusal(report_id, None, NOT_FOUND))
            continue
        try:
            moved = ACTIONS[action](user=user, report_id=report_id, comment=comment)
        except PortalError as exc:
            outcome.refused.append(Refusal(report_id, report, exc.message))
        else:
            moved.institution = report.institution
            outcome.changed.append(moved)
    return outcome


def bulk_actions_for(user) -> list[tuple[str, str]]:
    """The bulk actions the user's role can ever take (for the list page's form)."""
    if rules.is_regional(user):
        names = [ReportAction.APPROVE, ReportAction.RETURN]
    elif rules.has_municipal_role(user):
        names = [ReportAction.ACCEPT, ReportAction.RETURN]
    else:
        names = []
    return [(n, ReportAction(n).label) for n in names]
