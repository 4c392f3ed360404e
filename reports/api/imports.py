"""Every import through the API: the registry and Table-1 workbooks, past member counts.

Each takes ``dry_run`` (check and answer what would change, write nothing) and answers a refused
file in the portal's JSON error shape, code ``import_rejected``, with ``details.errors``: one
entry per problem with its file, sheet, row and column.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from openpyxl.utils import get_column_letter
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from institutions.choices import TerritoryKind
from institutions.imports import ImportPlan, PlanAction
from institutions.models import is_regional_methodologist
from institutions.services import registry_import
from metrics.past import MAX_MEMBERS, PastMembersRow, can_import_past, past_members_import
from metrics.past_files import past_members_file_rows
from portal.errors import NotAllowed, RowsRejected, ValidationFailed
from reports.api.values import ValueChangeSerializer
from reports.imports.past_values import past_values_import
from reports.imports.services import table1_import
from reports.imports.table1 import ImportProblem, ImportRejected
from reports.workflow import rules

MAX_BULK_ROWS = 10_000


# --- bodies ---------------------------------------------------------------------------------
class FileUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="файл .xlsx")
    dry_run = serializers.BooleanField(required=False, default=False,
                                       help_text="только проверить, ничего не записывать")


class Table1UploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), allow_empty=False,
                                  help_text="один или несколько файлов .xlsx формы Таблицы 1")
    dry_run = serializers.BooleanField(required=False, default=False)


class PastMembersFileSerializer(FileUploadSerializer):
    file = serializers.FileField(help_text="файл .xlsx или .csv: Сообщество, Дата, Участников")


class PastValuesFileSerializer(FileUploadSerializer):
    file = serializers.FileField(help_text="файл .xlsx или .csv: Сообщество, Месяц, показатели")


class PastMembersItemSerializer(serializers.Serializer):
    community = serializers.CharField(max_length=300, help_text="id сообщества в портале или "
                                                                "ссылка на него")
    date = serializers.CharField(max_length=10, help_text="дата ГГГГ-ММ-ДД или месяц ГГГГ-ММ "
                                                          "(число на конец месяца)")
    members = serializers.IntegerField(min_value=0, max_value=MAX_MEMBERS)


class PastMembersBulkSerializer(serializers.Serializer):
    rows = PastMembersItemSerializer(many=True, allow_empty=False, max_length=MAX_BULK_ROWS)
    dry_run = serializers.BooleanField(required=False, default=False)
    source_file = serializers.CharField(required=False, default="", allow_blank=True,
                                        max_length=200,
                                        help_text="откуда данные: имя файла или системы")


# --- answers --------------------------------------------------------------------------------
class ImportErrorSerializer(serializers.Serializer):
    """One problem of a refused import (an item of ``error.details.errors``)."""

    file = serializers.CharField()
    sheet = serializers.CharField()
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class RegistryCountsSerializer(serializers.Serializer):
    create = serializers.IntegerField()
    update = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    reject = serializers.IntegerField()
    communities = serializers.IntegerField()


class NewTerritorySerializer(serializers.Serializer):
    oktmo = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=TerritoryKind.choices)


class RegistryRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    action = serializers.ChoiceField(choices=PlanAction.choices)
    institution = serializers.CharField()
    territory = serializers.CharField()
    changes = serializers.ListField(child=serializers.CharField())


class RegistryImportAnswerSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    applied = serializers.BooleanField()
    sheet = serializers.CharField()
    summary = serializers.CharField()
    counts = RegistryCountsSerializer()
    new_territories = NewTerritorySerializer(many=True)
    rows = RegistryRowSerializer(many=True)


class Table1ImportAnswerSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    files = serializers.IntegerField()
    sheets = serializers.IntegerField()
    institutions = serializers.IntegerField()
    changed = serializers.IntegerField()
    changes = ValueChangeSerializer(many=True)


class PastValuesAnswerSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    changed = serializers.IntegerField()
    changes = ValueChangeSerializer(many=True)


class PastMembersAnswerSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    kept_collected = serializers.IntegerField(
        help_text="строк не записано: на эту дату уже есть число, собранное из соцсети")


# --- helpers --------------------------------------------------------------------------------
PAST_REFUSED = ("Загружать прошлые данные могут методисты, муниципальные отделы и редакторы "
                "учреждений.")


def _require(allowed: bool, message: str) -> None:
    """Refuse before reading the body: a reader learns nothing from a validation answer."""
    if not allowed:
        raise NotAllowed(message)


def _upload_bytes(upload: Any) -> bytes:
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationFailed(f"Файл «{upload.name}» больше допустимых "
                               f"{limit // (1024 * 1024)} МБ.")
    return upload.read()


def _registry_errors(plan: ImportPlan, file: str) -> list[dict[str, Any]]:
    letters = {column: get_column_letter(indexes[0] + 1)
               for column, indexes in plan.columns.items()}
    return [{"file": file, "sheet": plan.sheet, "row": row.number,
             "column": letters.get(getattr(reason, "column", None)), "message": str(reason)}
            for row in plan.rejected_rows for reason in row.reasons]


def _registry_answer(plan: ImportPlan) -> dict[str, Any]:
    return {
        "dry_run": plan.dry_run, "applied": plan.applied, "sheet": plan.sheet,
        "summary": plan.summary(), "counts": plan.counts,
        "new_territories": [{"oktmo": t.oktmo, "name": t.name, "kind": t.kind}
                            for t in plan.new_territories],
        "rows": [{"row": r.number, "action": r.action.value, "institution": r.institution,
                  "territory": r.territory, "changes": [str(c) for c in r.changes]}
                 for r in plan.rows if r.action != PlanAction.REJECT],
    }


def _problem(problem: ImportProblem) -> dict[str, Any]:
    return {"file": problem.file, "sheet": problem.sheet, "row": problem.row,
            "column": problem.column or None, "message": problem.message}


def _rejected(errors: list[dict[str, Any]]) -> RowsRejected:
    first = errors[0]
    where = ", ".join(part for part in (
        f"лист «{first['sheet']}»" if first["sheet"] else "",
        f"строка {first['row']}" if first["row"] else "",
        f"столбец {first['column']}" if first["column"] else "") if part)
    return RowsRejected(f"Ничего не записано: найдено ошибок — {len(errors)}. Первая: "
                        f"{where + ': ' if where else ''}{first['message']}",
                        details={"errors": errors})


def _past_members(request: Request, rows: list[PastMembersRow], *, source_file: str,
                  dry_run: bool) -> Response:
    try:
        result = past_members_import(user=request.user, rows=rows, source_file=source_file,
                                     dry_run=dry_run)
    except ValidationFailed as exc:
        errors = (exc.details or {}).get("errors") if isinstance(exc.details, dict) else None
        if not errors:
            raise
        raise _rejected([{"file": source_file, **e} for e in errors]) from exc
    return Response(PastMembersAnswerSerializer(result.as_dict()).data)


# --- the endpoints --------------------------------------------------------------------------
class ImportViewSet(viewsets.GenericViewSet):
    """Imports: each refuses the whole file when any row is wrong, and names every such row."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    serializer_class = FileUploadSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(request={"multipart/form-data": FileUploadSerializer},
                   responses={200: RegistryImportAnswerSerializer},
                   operation_id="imports_registry", summary="Импорт реестра из .xlsx")
    @action(detail=False, methods=["post"], url_path="registry")
    def registry(self, request: Request) -> Response:
        """Territories, institutions and communities from a registry .xlsx (methodologists)."""
        _require(is_regional_methodologist(request.user),
                 "Импортировать реестр могут только региональные методисты.")
        body = FileUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload, dry_run = body.validated_data["file"], body.validated_data["dry_run"]
        plan = registry_import(file=_upload_bytes(upload), user=request.user, dry_run=dry_run)
        if plan.is_rejected:
            raise _rejected(_registry_errors(plan, upload.name))
        return Response(RegistryImportAnswerSerializer(_registry_answer(plan)).data)

    @extend_schema(request={"multipart/form-data": Table1UploadSerializer},
                   responses={200: Table1ImportAnswerSerializer},
                   operation_id="imports_table1", summary="Импорт форм Таблицы 1 из .xlsx")
    @action(detail=False, methods=["post"], url_path="table1")
    def table1(self, request: Request) -> Response:
        """Filled Table-1 forms (any year, past ones too); stored as «импорт» with the file."""
        _require(rules.may_enter_values(request.user), rules.ENTER_VALUES_REFUSED)
        body = Table1UploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        files = [(f.name, _upload_bytes(f)) for f in body.validated_data["files"]]
        dry_run = body.validated_data["dry_run"]
        try:
            result = table1_import(user=request.user, files=files, dry_run=dry_run)
        except ImportRejected as exc:
            raise _rejected([_problem(p) for p in exc.problems]) from exc
        return Response(Table1ImportAnswerSerializer({
            "dry_run": dry_run, "files": result.files, "sheets": result.sheets,
            "institutions": result.institutions, "changed": len(result.changes),
            "changes": [c.as_dict() for c in result.changes],
        }).data)

    @extend_schema(request=PastMembersBulkSerializer,
                   responses={200: PastMembersAnswerSerializer},
                   operation_id="imports_past_members",
                   summary="Импорт прошлых чисел участников (JSON)")
    @action(detail=False, methods=["post"], url_path="past-members")
    def past_members(self, request: Request) -> Response:
        """Daily or month-end member counts for past dates, as JSON rows."""
        _require(can_import_past(request.user), PAST_REFUSED)
        body = PastMembersBulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        rows = [PastMembersRow(number=n, community=r["community"], date=r["date"],
                               members=r["members"])
                for n, r in enumerate(data["rows"], start=1)]
        return _past_members(request, rows, source_file=data["source_file"],
                             dry_run=data["dry_run"])

    @extend_schema(request={"multipart/form-data": PastValuesFileSerializer},
                   responses={200: PastValuesAnswerSerializer},
                   operation_id="imports_past_values_file",
                   summary="Импорт прошлых значений Таблицы 1 из файла")
    @action(detail=False, methods=["post"], url_path="past-values/file")
    def past_values_file(self, request: Request) -> Response:
        """Table-1 values of past months from a flat .xlsx/.csv: Сообщество, Месяц, показатели."""
        _require(rules.may_enter_values(request.user), rules.ENTER_VALUES_REFUSED)
        body = PastValuesFileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload, dry_run = body.validated_data["file"], body.validated_data["dry_run"]
        try:
            result = past_values_import(user=request.user, name=upload.name,
                                        data=_upload_bytes(upload), dry_run=dry_run)
        except ValidationFailed as exc:
            errors = (exc.details or {}).get("errors") if isinstance(exc.details, dict) else None
            if not errors:
                raise
            raise _rejected([{"file": upload.name, **e} for e in errors]) from exc
        return Response(PastValuesAnswerSerializer({
            "dry_run": dry_run, "changed": len(result.changes),
            "changes": [c.as_dict() for c in result.changes]}).data)

    @extend_schema(request={"multipart/form-data": PastMembersFileSerializer},
                   responses={200: PastMembersAnswerSerializer},
                   operation_id="imports_past_members_file",
                   summary="Импорт прошлых чисел участников из файла")
    @action(detail=False, methods=["post"], url_path="past-members/file")
    def past_members_file(self, request: Request) -> Response:
        """The same from a .xlsx or .csv file with columns Сообщество, Дата, Участников."""
        _require(can_import_past(request.user), PAST_REFUSED)
        body = PastMembersFileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        rows = past_members_file_rows(name=upload.name, data=_upload_bytes(upload))
        return _past_members(request, rows, source_file=upload.name,
                             dry_run=body.validated_data["dry_run"])
