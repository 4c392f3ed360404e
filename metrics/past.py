"""Past member counts from other systems: daily or month-end figures imported into snapshots.

How the sources rank (also in docs/operations.md): a figure collected from the network on a
date is the network's own count, so it is never replaced by an import and it replaces an
imported figure of the same date. Between imports the later one wins. Every imported row keeps
its source («импорт»), file, who and when (``collected_at`` is the time of the write).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from institutions.choices import Role
from institutions.links import LinkError, parse_community_link
from institutions.models import Community, profile_of
from metrics.models import MemberSnapshot, SnapshotSource
from portal.errors import NotAllowed, ValidationFailed

MAX_ROWS = 100_000
MAX_MEMBERS = 2_147_483_647
IMPORTER_ROLES = {Role.REGIONAL_METHODOLOGIST, Role.MUNICIPAL, Role.EDITOR}
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_RU_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_RU_MONTH = re.compile(r"^(\d{1,2})\.(\d{4})$")


@dataclass(frozen=True)
class PastRowError:
    """One refused row: where it is (sheet, row, column) and why, in Russian."""

    row: int
    column: str
    message: str
    sheet: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column,
                "message": self.message}


@dataclass
class PastMembersRow:
    """A row as given: the community (id or link), a date or a month, the members count."""

    number: int
    community: Any
    date: Any
    members: Any
    sheet: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # field → column letter or name

    def error(self, name: str, message: str) -> PastRowError:
        return PastRowError(self.number, self.columns.get(name, name), message, self.sheet)


@dataclass
class PastMembersResult:
    """What an import did (or, on a dry run, would do)."""

    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_collected: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "rows": self.rows, "created": self.created,
                "updated": self.updated, "unchanged": self.unchanged,
                "kept_collected": self.kept_collected}


def can_import_past(user) -> bool:
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    profile = profile_of(user)
    return profile is not None and profile.role in IMPORTER_ROLES


def past_members_import(*, user, rows: list[PastMembersRow], source_file: str = "",
                        dry_run: bool = False) -> PastMembersResult:
    """Check every row, then store all of them or none; errors name each refused row."""
    if not can_import_past(user):
        raise NotAllowed("Загружать прошлые данные могут методисты, муниципальные отделы "
                         "и редакторы учреждений.")
    if not rows:
        raise ValidationFailed("Нет ни одной строки с данными.")
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(f"Не более {MAX_ROWS} строк за один раз; разделите файл.")
    parsed, errors = _parse_rows(user, rows)
    if errors:
        raise ValidationFailed(_rejected_message(errors),
                               details={"errors": [e.as_dict() for e in errors]})
    return _store(user, parsed, source_file=source_file, dry_run=dry_run)


def _rejected_message(errors: list[PastRowError]) -> str:
    return (f"Ничего не загружено: ошибок в строках — {len(errors)}. "
            f"Первая: строка {errors[0].row}, {errors[0].column}: {errors[0].message}")


class CommunityFinder:
    """The communities the user may load figures for, found by id or by link."""

    def __init__(self, user) -> None:
        rows = Community.objects.visible_to(user).values_list("pk", "network", "network_id",
                                                             "screen_name")
        self.ids, self.by_key = set(), {}
        for pk, network, network_id, screen_name in rows:
            self.ids.add(pk)
            if network_id is not None:
                self.by_key[(network, "id", network_id)] = pk
            if screen_name:
                self.by_key[(network, "name", screen_name.casefold())] = pk

    def find(self, value: Any) -> int | None:
        text = str(value if value is not None else "").strip()
        if (isinstance(value, int | float) and not isinstance(value, bool)) or text.isdecimal():
            pk = int(float(text))
            return pk if pk in self.ids else None
        try:
            link = parse_community_link(text)
        except LinkError:
            return None
        if link.network_id is not None:
            return self.by_key.get((link.network, "id", link.network_id))
        return self.by_key.get((link.network, "name", link.screen_name.casefold()))


def _parse_rows(user, rows: list[PastMembersRow]
                ) -> tuple[dict[tuple[int, dt.date], int], list[PastRowError]]:
    communities = CommunityFinder(user)
    parsed: dict[tuple[int, dt.date], int] = {}
    first_row: dict[tuple[int, dt.date], int] = {}
    errors: list[PastRowError] = []
    today = timezone.localdate()
    for row in rows:
        found = len(errors)
        pk = communities.find(row.community)
        if pk is None:
            errors.append(row.error("community", f"сообщество «{row.community}» не найдено "
                                                 "в реестре среди доступных вам"))
        day = _parse_day(row, errors, today)
        members = _parse_members(row, errors)
        if len(errors) > found or pk is None or day is None or members is None:
            continue
        if (pk, day) in first_row:
            errors.append(row.error("date", f"это сообщество на {day:%d.%m.%Y} уже есть "
                                            f"в строке {first_row[(pk, day)]}"))
            continue
        first_row[(pk, day)], parsed[(pk, day)] = row.number, members
    return parsed, errors


def _parse_day(row: PastMembersRow, errors: list[PastRowError], today: dt.date
               ) -> dt.date | None:
    """A date, or a month ("2025-03", "03.2025") meaning its last day (a month-end count)."""
    value = row.date
    day = None
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        day = _day_from_text(str(value or "").strip())
    if day is None:
        errors.append(row.error("date", f"«{value or ''}» — не дата: нужна дата (2025-03-31 "
                                        "или 31.03.2025) или месяц (2025-03)"))
    elif day > today:
        errors.append(row.error("date", f"{day:%d.%m.%Y} — дата в будущем"))
        return None
    return day


def _day_from_text(text: str) -> dt.date | None:
    month = _MONTH.match(text) or _RU_MONTH.match(text)
    try:
        if month:
            year, number = (int(month[1]), int(month[2])) if _MONTH.match(text) else (
                int(month[2]), int(month[1]))
            return dt.date(year, number, calendar.monthrange(year, number)[1])
        ru = _RU_DATE.match(text)
        if ru:
            return dt.date(int(ru[3]), int(ru[2]), int(ru[1]))
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _parse_members(row: PastMembersRow, errors: list[PastRowError]) -> int | None:
    value = row.members
    text = re.sub(r"[\s\u00a0\u202f]", "", str(value if value is not None else ""))
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if isinstance(value, bool) or not text.isdecimal() or int(text) > MAX_MEMBERS:
        errors.append(row.error("members", f"«{value if value is not None else ''}» — нужно "
                                           "целое неотрицательное число участников"))
        return None
    return int(text)


@transaction.atomic
def _store(user, parsed: dict[tuple[int, dt.date], int], *, source_file: str, dry_run: bool
           ) -> PastMembersResult:
    result = PastMembersResult(dry_run=dry_run, rows=len(parsed))
    existing = {(s.community_id, s.date): s for s in MemberSnapshot.objects.select_for_update()
                .filter(community_id__in={k[0] for k in parsed}, date__in={k[1] for k in parsed})}
    now = timezone.now()
    new, changed = [], []
    for (pk, day), members in parsed.items():
        row = existing.get((pk, day))
        if row is None:
            new.append(MemberSnapshot(community_id=pk, date=day, members=members,
                                      source=SnapshotSource.IMPORT, source_file=source_file[:200],
                                      imported_by=user, collected_at=now))
        elif row.source == SnapshotSource.COLLECTED:
            result.kept_collected += 1
        elif row.members == members:
            result.unchanged += 1
        else:
            row.members, row.source_file, row.imported_by = members, source_file[:200], user
            row.collected_at = now
            changed.append(row)
    result.created, result.updated = len(new), len(changed)
    if not dry_run:
        MemberSnapshot.objects.bulk_create(new, batch_size=2000)
        MemberSnapshot.objects.bulk_update(
            changed, ["members", "source_file", "imported_by", "collected_at"], batch_size=2000)
    return result
