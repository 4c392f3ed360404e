"""Bulk invitation from Excel: read people, plan each row (create, update, keep, refuse), apply.

The same preview-then-apply shape as the registry import: planning writes nothing, applying
writes every planned row or none. A person is found by e-mail, so a repeated file changes only
what changed and never duplicates anyone.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from openpyxl import load_workbook

from institutions.choices import Role
from institutions.models import Institution, Territory, UserProfile
from institutions.people import (
    TERRITORY_ROLES,
    PersonData,
    can_manage_people,
    check_scope,
    people_visible_to,
)
from portal.errors import NotAllowed, ValidationFailed
from portal.lib.xlsx import xlsx_check

MAX_PEOPLE = 5_000
HEADERS = {
    "name": ("фио", "фамилия имя отчество", "имя", "сотрудник", "ф.и.о."),
    "email": ("эл. почта", "электронная почта", "e-mail", "email", "почта", "адрес почты"),
    "role": ("роль",),
    "territories": ("территории", "территория", "октмо", "коды октмо"),
    "institutions": ("учреждения", "учреждение", "инн", "инн учреждений"),
}
ROLE_WORDS = {
    "методист": Role.REGIONAL_METHODOLOGIST, "региональный методист": Role.REGIONAL_METHODOLOGIST,
    "муниципальный отдел": Role.MUNICIPAL, "отдел культуры": Role.MUNICIPAL,
    "муниципальный отдел культуры": Role.MUNICIPAL, "муниципалитет": Role.MUNICIPAL,
    "редактор": Role.EDITOR, "редактор учреждения": Role.EDITOR,
    "наблюдатель": Role.VIEWER, "api": Role.API_CLIENT, "api-клиент": Role.API_CLIENT,
    **{r.value: r for r in Role}, **{str(r.label).lower(): r for r in Role},
}
_CODES = re.compile(r"[\s,;]+")


@dataclass
class PersonRow:
    """One planned row: what happens to the person and, when refused, why."""

    number: int
    email: str
    name: str
    action: str = "unchanged"  # create | update | unchanged | reject
    role: str = ""
    territory_ids: tuple[int, ...] = ()
    institution_ids: tuple[int, ...] = ()
    reasons: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    user_id: int | None = None

    @property
    def action_label(self) -> str:
        return {"create": "будет приглашён", "update": "будет изменён",
                "unchanged": "без изменений", "reject": "отклонено"}[self.action]


@dataclass
class PeoplePlan:
    rows: list[PersonRow]
    applied: bool = False
    invited: list[int] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def is_rejected(self) -> bool:
        return self.count("reject") > 0

    @property
    def has_changes(self) -> bool:
        return bool(self.count("create") or self.count("update"))

    def summary(self) -> str:
        verb = ("Приглашено: {create}, изменено: {update}" if self.applied else
                "Будет приглашено: {create}, изменено: {update}")
        return (f"Строк: {len(self.rows)}. " + verb + ", без изменений: {unchanged}, "
                "отклонено: {reject}.").format(**{a: self.count(a) for a in (
                    "create", "update", "unchanged", "reject")})


def read_people(data: bytes) -> list[dict[str, Any]]:
    """The rows of the first sheet under its header, as {"row", "name", "email", ...}."""
    xlsx_check(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged parts
        raise ValidationFailed(f"Файл .xlsx повреждён или не читается: {exc}") from exc
    try:
        sheet = book.worksheets[0]
        if (sheet.max_row or 0) > MAX_PEOPLE + 1:
            raise ValidationFailed(f"Не более {MAX_PEOPLE} человек в одном файле.")
        cells = list(sheet.iter_rows(max_row=MAX_PEOPLE + 1, max_col=30, values_only=True))
    finally:
        book.close()
    return _rows_under_header(cells)


def _rows_under_header(cells: list[tuple]) -> list[dict[str, Any]]:
    header = {}
    for index, cell in enumerate(cells[0] if cells else ()):
        word = " ".join(str(cell or "").split()).lower().rstrip(":")
        for name, words in HEADERS.items():
            if word in words and name not in header:
                header[name] = index
    if "email" not in header or "role" not in header:
        raise ValidationFailed("В первой строке нужны колонки «ФИО», «Эл. почта», «Роль», "
                               "«Территории» (коды ОКТМО) и «Учреждения» (ИНН).")
    rows = []
    for number, values in enumerate(cells[1:], start=2):
        if all(v is None or not str(v).strip() for v in values):
            continue
        rows.append({"row": number, **{name: " ".join(str(values[i] or "").split())
                                       if i < len(values) else "" for name, i in header.items()}})
    return rows


def _person_data(row: PersonRow) -> PersonData:
    """The row as a person: «Фамилия Имя Отчество» split into last and first names."""
    last, _, first = row.name.partition(" ")
    territories = row.territory_ids if row.role in TERRITORY_ROLES else ()
    institutions = row.institution_ids if row.role == Role.EDITOR else ()
    return PersonData(row.email, first, last, row.role, territories, institutions)


class _Planner:
    def __init__(self, manager) -> None:
        self.manager = manager
        self.territory_by_code = {t.oktmo: t.pk for t in Territory.objects.only("pk", "oktmo")}
        self.institution_by_code = dict(Institution.objects.exclude(inn=None)
                                        .values_list("inn", "pk"))
        self.institution_ids = set(Institution.objects.values_list("pk", flat=True))
        users = get_user_model().objects.filter(email__gt="").select_related("profile")
        self.by_email = {u.email.lower(): u for u in users.prefetch_related(
            "profile__territories", "profile__institutions")}
        self.manageable = set(people_visible_to(manager).values_list("pk", flat=True))
        self.seen: dict[str, int] = {}

    def plan(self, raw: dict[str, Any]) -> PersonRow:
        email = raw.get("email", "").lower()
        row = PersonRow(number=raw["row"], email=email, name=raw.get("name", ""))
        self._email(row)
        row.role = ROLE_WORDS.get(raw.get("role", "").lower(), "")
        if not row.role:
            row.reasons.append(f"роль «{raw.get('role', '')}» не распознана: методист, "
                               "муниципальный отдел, редактор, наблюдатель, API-клиент")
        row.territory_ids = self._codes(raw.get("territories", ""), self.territory_by_code,
                                        "территории с кодом ОКТМО", row)
        row.institution_ids = self._institutions(raw.get("institutions", ""), row)
        if row.role and not row.reasons:
            row.reasons += check_scope(self.manager, _person_data(row))
        if row.reasons:
            row.action = "reject"
            return row
        self._compare(row)
        return row

    def _email(self, row: PersonRow) -> None:
        try:
            validate_email(row.email)
        except ValidationError:
            row.reasons.append(f"адрес почты «{row.email}» неверен")
            return
        first = self.seen.setdefault(row.email, row.number)
        if first != row.number:
            row.reasons.append(f"этот адрес уже указан в строке {first}")
        existing = self.by_email.get(row.email)
        if existing is not None and existing.pk not in self.manageable:
            row.reasons.append("этим пользователем управляет региональный методист")

    def _codes(self, text: str, known: dict, what: str, row: PersonRow) -> tuple[int, ...]:
        found = []
        for code in (c for c in _CODES.split(text) if c):
            if code in known:
                found.append(known[code])
            else:
                row.reasons.append(f"{what} {code} нет в реестре")
        return tuple(sorted(set(found)))

    def _institutions(self, text: str, row: PersonRow) -> tuple[int, ...]:
        found = []
        for code in (c for c in _CODES.split(text) if c):
            if code in self.institution_by_code:
                found.append(self.institution_by_code[code])
            elif code.isdecimal() and len(code) < 9 and int(code) in self.institution_ids:
                found.append(int(code))  # the portal's own institution number
            else:
                row.reasons.append(f"учреждения с ИНН или номером {code} нет в реестре")
        return tuple(sorted(set(found)))

    def _compare(self, row: PersonRow) -> None:
        user = self.by_email.get(row.email)
        if user is None:
            row.action = "create"
            return
        row.user_id = user.pk
        profile = getattr(user, "profile", None)
        data = _person_data(row)
        if profile is None or profile.role != data.role:
            row.changes.append(f"роль: {Role(data.role).label}")
        if profile is None or {t.pk for t in profile.territories.all()} != set(
                data.territory_ids):
            row.changes.append("территории")
        if profile is None or {i.pk for i in profile.institutions.all()} != set(
                data.institution_ids):
            row.changes.append("учреждения")
        if not user.is_active:
            row.changes.append("снова активен")
        row.action = "update" if row.changes else "unchanged"


def people_plan(*, manager, rows: list[dict[str, Any]]) -> PeoplePlan:
    """Decide for every row what the import would do; nothing is written."""
    if not can_manage_people(manager):
        raise NotAllowed("Приглашать пользователей могут методисты и муниципальные отделы.")
    if not rows:
        raise ValidationFailed("В файле нет ни одной строки под заголовком.")
    planner = _Planner(manager)
    return PeoplePlan(rows=[planner.plan(raw) for raw in rows])


@transaction.atomic
def people_apply(*, manager, rows: list[dict[str, Any]]) -> PeoplePlan:
    """Plan again (the portal may have changed) and write every row, or none when any is refused."""
    plan = people_plan(manager=manager, rows=rows)
    if plan.is_rejected:
        return plan
    _create(plan.rows)
    _update([r for r in plan.rows if r.action == "update"])
    plan.applied = True
    plan.invited = [r.user_id for r in plan.rows if r.action == "create"]
    return plan


def _create(rows: list[PersonRow]) -> None:
    rows = [r for r in rows if r.action == "create"]
    planner_data = {r.number: _person_data(r) for r in rows}
    unusable = make_password(None)
    users = get_user_model().objects.bulk_create([
        get_user_model()(username=r.email, email=r.email, password=unusable,
                         first_name=planner_data[r.number].first_name[:150],
                         last_name=planner_data[r.number].last_name[:150])
        for r in rows])
    profiles = UserProfile.objects.bulk_create([
        UserProfile(user=u, role=r.role) for u, r in zip(users, rows, strict=True)])
    for user, row in zip(users, rows, strict=True):
        row.user_id = user.pk
    _set_scope(profiles, [planner_data[r.number] for r in rows])


def _update(rows: list[PersonRow]) -> None:
    if not rows:
        return
    data = [_person_data(r) for r in rows]
    get_user_model().objects.filter(pk__in=[r.user_id for r in rows]).update(is_active=True)
    profiles = []
    for row, person in zip(rows, data, strict=True):
        profile, _ = UserProfile.objects.update_or_create(user_id=row.user_id,
                                                          defaults={"role": person.role})
        profiles.append(profile)
    through_t, through_i = UserProfile.territories.through, UserProfile.institutions.through
    through_t.objects.filter(userprofile__in=profiles).delete()
    through_i.objects.filter(userprofile__in=profiles).delete()
    _set_scope(profiles, data)


def _set_scope(profiles: list[UserProfile], data: list[PersonData]) -> None:
    through_t, through_i = UserProfile.territories.through, UserProfile.institutions.through
    through_t.objects.bulk_create([through_t(userprofile_id=p.pk, territory_id=t)
                                   for p, d in zip(profiles, data, strict=True)
                                   for t in d.territory_ids])
    through_i.objects.bulk_create([through_i(userprofile_id=p.pk, institution_id=i)
                                   for p, d in zip(profiles, data, strict=True)
                                   for i in d.institution_ids])
