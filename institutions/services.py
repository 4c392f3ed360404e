"""Writes to the registry: the .xlsx import and the uploads that wait for confirmation."""

from __future__ import annotations

import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from institutions.choices import CommunityCategory, CommunityState
from institutions.imports import (
    ImportPlan,
    PlanAction,
    RegistryIndex,
    plan_registry_import,
    read_registry_sheet,
)
from institutions.models import Community, Institution, is_regional_methodologist
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed

ImportSource = bytes | str | Path | IO[bytes]

# Any constant works: it only has to be the same for every process that imports the registry.
_IMPORT_LOCK_KEY = 0x52454749
_UPLOAD_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
UPLOAD_TTL_SECONDS = 24 * 3600
HISTORY_REASON = "Импорт реестра из .xlsx"


def registry_import(*, file: ImportSource, user: Any | None, dry_run: bool) -> ImportPlan:
    """Plan a registry import from an .xlsx file and, unless dry_run, apply it all-or-nothing."""
    if user is not None and not is_regional_methodologist(user):
        raise NotAllowed(_("Импортировать реестр могут только региональные методисты."))
    sheet = read_registry_sheet(read_upload(file))
    if dry_run:
        return plan_registry_import(sheet, index=RegistryIndex.load(), dry_run=True)
    try:
        with transaction.atomic():
            _lock_registry_imports()
            plan = plan_registry_import(sheet, index=RegistryIndex.load(), dry_run=False)
            if not plan.is_rejected:
                _apply_plan(plan, user=user)
                plan.applied = True
    except IntegrityError as exc:
        raise Conflict(
            _("Реестр изменился во время импорта, ничего не записано. Повторите импорт.")
        ) from exc
    return plan


def read_upload(file: ImportSource) -> bytes:
    """The file's bytes, refusing it without reading it all when it is over UPLOAD_MAX_BYTES."""
    limit = settings.UPLOAD_MAX_BYTES
    too_big = ValidationFailed(
        _("Файл больше допустимых %(mb)s МБ; такой реестр не принимается.")
        % {"mb": round(limit / (1024 * 1024), 1)}
    )
    if isinstance(file, bytes):
        data = file
    elif isinstance(file, str | Path):
        path = Path(file)
        if not path.is_file():
            raise ValidationFailed(_("Файл «%(path)s» не найден.") % {"path": path})
        if path.stat().st_size > limit:
            raise too_big
        data = path.read_bytes()
    else:
        if (getattr(file, "size", None) or 0) > limit:
            raise too_big
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(limit + 1)
    if len(data) > limit:
        raise too_big
    if not data:
        raise ValidationFailed(_("Файл пуст."))
    return data


def _lock_registry_imports() -> None:
    """Two imports at once would both plan against the same registry; run them one by one."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK_KEY])


def _apply_plan(plan: ImportPlan, *, user: Any | None) -> None:
    history_user = user if getattr(user, "is_authenticated", False) else None
    for territory in plan.new_territories:
        territory.full_clean()
        territory.save()  # institutions of the plan refer to these very objects
    _create_institutions(plan, history_user)
    _update_institutions(plan, history_user)
    _create_communities(plan)


def _create_institutions(plan: ImportPlan, history_user: Any | None) -> None:
    rows = plan.rows_with(PlanAction.CREATE)
    if not rows:
        return
    institutions = [Institution(**row.fields) for row in rows]
    bulk_create_with_history(
        institutions, Institution, default_user=history_user, default_change_reason=HISTORY_REASON
    )
    for row, institution in zip(rows, institutions, strict=True):
        row.institution_id = institution.pk


def _update_institutions(plan: ImportPlan, history_user: Any | None) -> None:
    rows = [row for row in plan.rows_with(PlanAction.UPDATE) if row.fields]
    if not rows:
        return
    institutions = Institution.objects.in_bulk([row.institution_id for row in rows])
    now = timezone.now()
    changed: set[str] = {"updated_at"}
    for row in rows:
        institution = institutions[row.institution_id]
        for name, value in row.fields.items():
            setattr(institution, name, value)
        institution.updated_at = now
        changed.update(row.fields)
    bulk_update_with_history(
        list(institutions.values()), Institution, fields=sorted(changed),
        default_user=history_user, default_change_reason=HISTORY_REASON,
    )


def _create_communities(plan: ImportPlan) -> None:
    communities = [
        Community(
            institution_id=row.institution_id,
            network=link.network,
            network_id=link.network_id,
            screen_name=link.screen_name,
            url=link.url,
            state=CommunityState.ACTIVE,
        )
        for row in plan.rows
        if row.action in (PlanAction.CREATE, PlanAction.UPDATE)
        for link in row.new_communities
    ]
    Community.objects.bulk_create(communities)


# --- uploads waiting for «Применить» -------------------------------------------------------------


def import_upload_dir() -> Path:
    """Private to the server (not MEDIA_ROOT, which may be served to the public)."""
    base = getattr(settings, "IMPORT_UPLOAD_DIR", "") or tempfile.gettempdir()
    return Path(base) / "portal-registry-imports"


def import_upload_save(*, file: ImportSource) -> str:
    """Keep an uploaded registry file until the user confirms the import; return its token."""
    data = read_upload(file)
    directory = import_upload_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    _drop_stale_uploads(directory)
    token = secrets.token_urlsafe(32)
    (directory / f"{token}.xlsx").write_bytes(data)
    return token


def import_upload_path(*, token: str) -> Path:
    """Where the upload with this token is kept; NotFound when it is gone or the token is bad."""
    path = import_upload_dir() / f"{token}.xlsx"
    if not _UPLOAD_TOKEN.match(token) or not path.is_file():
        raise NotFound(_("Загруженный файл не найден или устарел. Загрузите его снова."))
    return path


def import_upload_delete(*, token: str) -> None:
    """Forget an upload once it is applied or abandoned."""
    if _UPLOAD_TOKEN.match(token):
        (import_upload_dir() / f"{token}.xlsx").unlink(missing_ok=True)


def _drop_stale_uploads(directory: Path) -> None:
    cutoff = time.time() - UPLOAD_TTL_SECONDS
    for path in directory.glob("*.xlsx"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            continue  # another worker removed it first


@transaction.atomic
def community_category_set(*, user: Any, community_id: int, category: str) -> Community:
    """Set the community's category («» returns it to the flagship-threshold rule)."""
    if not is_regional_methodologist(user):
        raise NotAllowed(_("Категорию сообщества назначает только региональный методист."))
    if category and category not in CommunityCategory.values:
        raise ValidationFailed(_("Неизвестная категория: «%(category)s».")
                               % {"category": category}, details={"category": category})
    community = Community.objects.select_for_update().filter(pk=community_id).first()
    if community is None:
        raise NotFound(_("Сообщество не найдено."))
    community.category = category
    community.save(update_fields=["category", "updated_at"])
    return community
