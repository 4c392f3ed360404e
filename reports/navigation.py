"""The menu by role: a person sees only the pages their role can open and use.

The template context processor ``navigation`` gives every page ``nav_items``; the base template
renders them. Each entry names the rule that lets the role in, the same rule the page checks, so a
link is never followed by a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse

from institutions.choices import Role
from institutions.models import profile_of
from reports.workflow import rules


@dataclass(frozen=True)
class NavItem:
    """One menu link."""

    label: str
    url_name: str
    element_id: str

    @property
    def url(self) -> str:
        return reverse(self.url_name)


def _role(user) -> str | None:
    if getattr(user, "is_superuser", False) and user.is_active:
        return "superuser"
    profile = profile_of(user)
    return profile.role if profile else None


ANY_ROLE = {"superuser", *Role.values}
PEOPLE = ANY_ROLE - {Role.API_CLIENT}
REVIEWERS_AND_READERS = {"superuser", Role.REGIONAL_METHODOLOGIST, Role.MUNICIPAL, Role.VIEWER}

# (label, url name, element id, roles that see the link)
MENU: list[tuple[str, str, str, set]] = [
    ("Мои задачи", "home", "nav-home", ANY_ROLE),
    ("Реестр", "registry", "nav-registry", ANY_ROLE),
    ("Таблица 1", "reports:entry-index", "nav-table1", {"superuser", Role.EDITOR,
                                                        Role.REGIONAL_METHODOLOGIST}),
    ("Отчёты", "reports:list", "nav-reports", PEOPLE),
    ("Полнота сдачи", "reports:completeness", "nav-completeness", REVIEWERS_AND_READERS),
    ("Сбор из VK и OK", "metrics:collection-runs", "nav-collection",
     {"superuser", Role.REGIONAL_METHODOLOGIST}),
    ("Рейтинги", "reports:rankings", "nav-rankings", ANY_ROLE),
    ("Качество ведения", "reports:quality", "nav-quality", ANY_ROLE),
    ("Динамика", "reports:audience-chart", "nav-audience", ANY_ROLE),
    ("Сводные отчёты", "reports:summary", "nav-summary", REVIEWERS_AND_READERS),
    ("Выгрузки", "reports:exports", "nav-exports", REVIEWERS_AND_READERS),
    ("Прошлые данные", "reports:past-data", "nav-past-data",
     {"superuser", Role.REGIONAL_METHODOLOGIST, Role.MUNICIPAL, Role.EDITOR}),
    ("Пользователи", "people", "nav-people", {"superuser", Role.REGIONAL_METHODOLOGIST,
                                               Role.MUNICIPAL}),
    ("API", "api-docs", "nav-api", ANY_ROLE),
]


def nav_items_for(user) -> list[NavItem]:
    """The menu of ``user``: empty for anonymous users, only «Мои задачи» without a role."""
    if not getattr(user, "is_authenticated", False):
        return []
    role = _role(user)
    if role is None:
        return [NavItem("Мои задачи", "home", "nav-home")]
    return [NavItem(label, name, element_id)
            for label, name, element_id, roles in MENU if role in roles]


def navigation(request: HttpRequest) -> dict:
    """Template context: the role's menu, whether to link the admin, what the role may enter."""
    user = getattr(request, "user", None)
    return {
        "nav_items": nav_items_for(user),
        # The admin's own rule (staff regional methodologists): never a link to a refusal.
        "nav_admin": bool(user is not None and user.is_authenticated
                          and admin.site.has_permission(request)),
        "may_enter_values": bool(user is not None and rules.may_enter_values(user)),
    }
