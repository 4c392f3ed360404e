"""The Table-1 Excel import: all uploaded files or nothing, through the workflow's save."""

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import transaction
from openpyxl.utils import get_column_letter

from institutions.models import Community, Institution
from metrics.choices import ValueSource
from metrics.services import ValueChange
from portal.errors import Locked, PortalError, ValidationFailed
from reports.exports.table1 import FIRST_MONTH_COL, ROW_CODE
from reports.imports.table1 import ImportProblem, ImportRejected, table1_parse
from reports.workflow import rules
from reports.workflow.services import CHANNEL_IMPORT, report_values_save


@dataclass
class ImportResult:
    """What an accepted upload changed (or, on a dry run, would change)."""

    files: int = 0
    sheets: int = 0
    institutions: int = 0
    changes: list[ValueChange] = field(default_factory=list)


def table1_import(*, user, files: list[tuple[str, bytes]], dry_run: bool = False
                  ) -> ImportResult:
    """Store uploaded Table-1 forms, all files or nothing; ImportRejected lists every problem.

    An empty cell leaves the stored figure as it is; only differing figures are changes.
    """
    if len(files) > 1 and not rules.is_regional(user):
        raise ImportRejected([ImportProblem(
            files[0][0], "загружать несколько файлов сразу могут только региональные методисты."
        )])
    sheets, problems = [], []
    for name, data in files:
        try:
            sheets += table1_parse(name=name, data=data)
        except ImportRejected as exc:
            problems += exc.problems
    owners, scope_problems = _import_scope(user, sheets)
    problems += scope_problems
    if problems:
        raise ImportRejected(problems)
    return _import_store(user, sheets, owners, dry_run=dry_run, files=len(files))


def _import_scope(user, sheets: list) -> tuple[dict[int, Institution], list]:
    """Each sheet's community must exist, be the uploader's to fill, and appear once."""
    found = {c.pk: c for c in Community.objects.select_related("institution").filter(
        pk__in={s.community_id for s in sheets})}
    owners, problems, seen = {}, [], {}
    for sheet in sheets:
        community = found.get(sheet.community_id)
        at = {"sheet": sheet.sheet, "row": ROW_CODE + 1, "column": "B"}
        if community is None or not rules.can_view(user, community.institution):
            problems.append(ImportProblem(
                sheet.file, f"сообщество с кодом {sheet.community_id} не найдено среди "
                            "доступных вам.", **at))
        elif not rules.can_edit_values(user, community.institution):
            problems.append(ImportProblem(
                sheet.file, f"вносить значения учреждения «{community.institution}» вы не "
                            "можете.", **at))
        elif (sheet.community_id, sheet.year) in seen:
            problems.append(ImportProblem(
                sheet.file, f"сообщество «{community}» за {sheet.year} год уже есть на листе "
                            f"«{seen[(sheet.community_id, sheet.year)]}».", **at))
        else:
            seen[(sheet.community_id, sheet.year)] = sheet.sheet
            owners[sheet.community_id] = community.institution
    return owners, problems


@transaction.atomic
def _import_store(user, sheets: list, owners: Mapping[int, Institution], *, dry_run: bool,
                  files: int) -> ImportResult:
    by_institution: dict[int, list] = defaultdict(list)
    for sheet in sheets:
        by_institution[owners[sheet.community_id].pk].append(sheet)
    result = ImportResult(files=files, sheets=len(sheets), institutions=len(by_institution))
    problems = []
    for group in by_institution.values():
        cells = {(s.community_id, month, indicator): figure
                 for s in group for (month, indicator), figure in s.cells.items()}
        try:
            saved = report_values_save(
                user=user, institution=owners[group[0].community_id], cells=cells,
                source=ValueSource.IMPORT, channel=CHANNEL_IMPORT, dry_run=dry_run,
                source_file=", ".join(sorted({s.file for s in group})),
            )
        except (ValidationFailed, Locked) as exc:
            problems += _import_problems(exc, group)
            continue
        result.changes += saved.changes
    if problems:
        raise ImportRejected(problems)
    return result


def _import_problems(exc: PortalError, group: list) -> list:
    """Point a service refusal back at the sheet, row and column it came from."""
    details = exc.details
    sheets = {s.community_id: s for s in group}
    if isinstance(details, list):
        out = []
        for item in details:
            sheet = sheets.get(item.get("community_id")) or group[0]
            month = dt.date(*(int(p) for p in item["month"].split("-")), 1)
            row, column = sheet.where(month, item.get("indicator") or "members")
            out.append(ImportProblem(sheet.file, item["message"], sheet.sheet, row, column))
        return out
    months = (details or {}).get("months", []) if isinstance(details, dict) else []
    sheet = group[0]
    if not months:
        return [ImportProblem(sheet.file, exc.message, sheet.sheet)]
    return [ImportProblem(sheet.file, exc.message, sheet.sheet, None,
                          get_column_letter(FIRST_MONTH_COL + int(m[5:7])))
            for m in months]
