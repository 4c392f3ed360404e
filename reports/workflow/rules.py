"""The report state machine and who may do what — the rules in one place.

Pure functions of (user, institution, state); ``reports.workflow.services`` applies them.

    черновик ─submit→ отправлен ─accept→ принят муниципалитетом ─approve→ утверждён
                 (regional institutions: отправлен ─approve→ утверждён)
    отправлен / принят ─return→ возвращён на доработку ─submit→ отправлен
    утверждён ─reopen→ возвращён на доработку
"""

from dataclasses import dataclass

from institutions.choices import Role
from institutions.models import (
    Institution,
    is_regional_methodologist,
    profile_of,
    sees_whole_region,
)
from portal.errors import Conflict, NotAllowed
from reports.models import EDITABLE_STATES, ReportAction, ReportState

EDITOR, MUNICIPAL, REGIONAL = "editor", "municipal", "regional"


@dataclass(frozen=True)
class Rule:
    """``role`` may take ``action`` from ``source`` to ``target``."""

    action: str
    source: str
    target: str
    role: str
    municipal_step: bool | None = None  # None: any institution; else only where it matches


RULES = [
    Rule(ReportAction.SUBMIT, ReportState.DRAFT, ReportState.SUBMITTED, EDITOR),
    Rule(ReportAction.SUBMIT, ReportState.RETURNED, ReportState.SUBMITTED, EDITOR),
    Rule(ReportAction.SUBMIT, ReportState.DRAFT, ReportState.SUBMITTED, REGIONAL),
    Rule(ReportAction.SUBMIT, ReportState.RETURNED, ReportState.SUBMITTED, REGIONAL),
    Rule(ReportAction.ACCEPT, ReportState.SUBMITTED, ReportState.ACCEPTED, MUNICIPAL, True),
    Rule(ReportAction.APPROVE, ReportState.ACCEPTED, ReportState.APPROVED, REGIONAL),
    Rule(ReportAction.APPROVE, ReportState.SUBMITTED, ReportState.APPROVED, REGIONAL, False),
    Rule(ReportAction.RETURN, ReportState.SUBMITTED, ReportState.RETURNED, MUNICIPAL, True),
    Rule(ReportAction.RETURN, ReportState.SUBMITTED, ReportState.RETURNED, REGIONAL),
    Rule(ReportAction.RETURN, ReportState.ACCEPTED, ReportState.RETURNED, REGIONAL),
    Rule(ReportAction.REOPEN, ReportState.APPROVED, ReportState.RETURNED, REGIONAL),
]
REASON_REQUIRED = {ReportAction.RETURN, ReportAction.REOPEN}


def roles_for(user, institution: Institution) -> set[str]:
    """The workflow roles ``user`` holds for ``institution`` (empty: only reading, if that)."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return {EDITOR, MUNICIPAL, REGIONAL}
    profile = profile_of(user)
    if profile is None:
        return set()
    if profile.role == Role.REGIONAL_METHODOLOGIST:
        return {REGIONAL}
    if profile.role == Role.MUNICIPAL and institution.territory_id in profile.territory_ids():
        return {MUNICIPAL}
    if profile.role == Role.EDITOR and institution.pk in profile.institution_ids():
        return {EDITOR}
    return set()


def can_view(user, institution: Institution) -> bool:
    """The same scope as ``Institution.objects.visible_to`` without a query."""
    if sees_whole_region(user):
        return True
    profile = profile_of(user)
    if profile is None:
        return False
    if profile.role == Role.EDITOR:
        return institution.pk in profile.institution_ids()
    return institution.territory_id in profile.territory_ids()


def is_regional(user) -> bool:
    """Regional methodologists (and superusers): the region-wide workflow powers."""
    return is_regional_methodologist(user)


def has_municipal_role(user) -> bool:
    """A municipal department user (accepts reports of their territories)."""
    profile = profile_of(user)
    return profile is not None and profile.role == Role.MUNICIPAL


def may_enter_values(user) -> bool:
    """Whether the role can fill Table 1 anywhere (read-only roles are refused up front)."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    profile = profile_of(user)
    return profile is not None and profile.role in (Role.EDITOR, Role.REGIONAL_METHODOLOGIST)


ENTER_VALUES_REFUSED = "Вносить значения могут редакторы учреждений и региональные методисты."


def can_edit_values(user, institution: Institution) -> bool:
    """Editors fill their own institutions' tables; regional methodologists may fill any."""
    return bool(roles_for(user, institution) & {EDITOR, REGIONAL})


def _applies(rule: Rule, institution: Institution) -> bool:
    if rule.municipal_step is None:
        return True
    return rule.municipal_step != institution.skips_municipal_review


def allowed_actions(user, institution: Institution, state: str) -> list[str]:
    """The actions ``user`` may take on a report of ``institution`` in ``state``, in order."""
    roles = roles_for(user, institution)
    found = [r.action for r in RULES
             if r.source == state and r.role in roles and _applies(r, institution)]
    return list(dict.fromkeys(found))


def transition_target(*, user, institution: Institution, state: str, action: str) -> str:
    """The state ``action`` leads to, or NotAllowed (wrong role) / Conflict (wrong state)."""
    roles = roles_for(user, institution)
    by_role = [r for r in RULES if r.action == action and r.role in roles]
    if not by_role:
        raise NotAllowed(_not_your_action(action))
    applicable = [r for r in by_role if _applies(r, institution)]
    if not applicable:
        raise NotAllowed(
            "Учреждение подведомственно региону: муниципальный этап проверки не нужен, "
            "отчёт утверждает региональный методист."
        )
    for rule in applicable:
        if rule.source == state:
            return rule.target
    raise Conflict(
        f"Действие «{ReportAction(action).label}» невозможно: отчёт в состоянии "
        f"«{ReportState(state).label}»."
    )


def _not_your_action(action: str) -> str:
    who = {
        ReportAction.SUBMIT: "редактор учреждения или региональный методист",
        ReportAction.ACCEPT: "муниципальный отдел культуры своей территории",
        ReportAction.APPROVE: "региональный методист",
        ReportAction.RETURN: "муниципальный отдел своей территории или региональный методист",
        ReportAction.REOPEN: "региональный методист",
    }.get(action, "")
    return f"Действие «{ReportAction(action).label}» может выполнить только {who}."


def is_editable_state(state: str | None) -> bool:
    """No report yet counts as a draft."""
    return state is None or state in EDITABLE_STATES
