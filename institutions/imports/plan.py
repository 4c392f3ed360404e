"""The plan of a registry import: for every row, what would be created, updated, kept or rejected.

Planning reads the registry once into an in-memory index (a few queries, whatever the file size)
and checks rows against the registry and against each other. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from institutions.choices import InstitutionType, Network, Subordination
from institutions.imports.fields import at, row_fields
from institutions.imports.reader import RegistrySheet, SheetRow
from institutions.imports.vocabulary import (
    Column,
    name_key,
    parse_link_token,
    territory_kind,
    territory_stem,
)
from institutions.links import LinkError, ParsedLink
from institutions.models import Community, Institution, Territory
from institutions.validators import validate_oktmo
from portal.errors import ValidationFailed


class PlanAction(models.TextChoices):
    """What an import does with a row."""

    CREATE = "create", gettext_lazy("будет создано")
    UPDATE = "update", gettext_lazy("будет обновлено")
    UNCHANGED = "unchanged", gettext_lazy("без изменений")
    REJECT = "reject", gettext_lazy("отклонено")


@dataclass
class RowPlan:
    """What importing one row would do, and why it cannot when rejected."""

    number: int
    action: PlanAction
    institution: str = ""
    territory: str = ""
    changes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    institution_id: int | None = None
    # Model field values: all fields for a new institution, only the changed ones for an update.
    fields: dict[str, Any] = field(default_factory=dict)
    new_communities: list[ParsedLink] = field(default_factory=list)
    kept_communities: int = 0

    @property
    def action_label(self) -> str:
        return str(self.action.label)


@dataclass
class ImportPlan:
    """Per-row outcome of a registry import; ``applied`` says whether it was written."""

    sheet: str
    rows: list[RowPlan]
    dry_run: bool
    applied: bool = False
    # Territories the file names by OKTMO code and name that the registry lacks: created first.
    new_territories: list[Territory] = field(default_factory=list)
    columns: dict[Column, list[int]] = field(default_factory=dict)  # sheet column indexes

    @property
    def is_rejected(self) -> bool:
        return any(row.action == PlanAction.REJECT for row in self.rows)

    @property
    def counts(self) -> dict[str, int]:
        counts = {action.value: 0 for action in PlanAction}
        for row in self.rows:
            counts[row.action.value] += 1
        counts["communities"] = sum(len(row.new_communities) for row in self.rows)
        return counts

    @property
    def has_changes(self) -> bool:
        return any(row.action in (PlanAction.CREATE, PlanAction.UPDATE) for row in self.rows)

    def rows_with(self, action: PlanAction) -> list[RowPlan]:
        return [row for row in self.rows if row.action == action]

    @property
    def rejected_rows(self) -> list[RowPlan]:
        return self.rows_with(PlanAction.REJECT)

    @property
    def changed_rows(self) -> list[RowPlan]:
        return [r for r in self.rows if r.action in (PlanAction.CREATE, PlanAction.UPDATE)]

    @property
    def unchanged_rows(self) -> list[RowPlan]:
        return self.rows_with(PlanAction.UNCHANGED)

    def summary(self) -> str:
        values = {"total": len(self.rows), **self.counts, "territories": len(self.new_territories)}
        if self.applied:
            return _(
                "Строк: %(total)s. Учреждений создано: %(create)s, обновлено: %(update)s, "
                "без изменений: %(unchanged)s. Новых сообществ: %(communities)s. "
                "Новых территорий: %(territories)s."
            ) % values
        return _(
            "Строк: %(total)s. Учреждений будет создано: %(create)s, обновлено: %(update)s, "
            "без изменений: %(unchanged)s, отклонено строк: %(reject)s. "
            "Новых сообществ: %(communities)s. Новых территорий: %(territories)s."
        ) % values


def plan_as_text(plan: ImportPlan) -> list[str]:
    """The plan as lines for a terminal: the summary, then one line per row."""
    lines = [_("Лист «%(sheet)s».") % {"sheet": plan.sheet}, plan.summary()]
    for row in plan.rows:
        head = _("Строка %(n)s: %(action)s — %(inst)s") % {
            "n": row.number, "action": row.action_label, "inst": row.institution or "?"
        }
        details = row.reasons if row.action == PlanAction.REJECT else row.changes
        lines.append(f"{head}{': ' if details else ''}{'; '.join(details)}")
    return lines


@dataclass
class RegistryIndex:
    """The registry's natural keys, read once so that planning a file costs a few queries."""

    territories: dict[int, Territory]
    territory_by_oktmo: dict[str, Territory]
    territories_by_key: dict[str, list[Territory]]
    territories_by_stem: dict[str, list[Territory]]
    institutions: dict[int, Institution]
    institution_by_inn: dict[str, Institution]
    institutions_by_full: dict[tuple[int, str], list[Institution]]
    institutions_by_short: dict[tuple[int, str], list[Institution]]
    community_owner: dict[tuple[str, str, str], int]

    @classmethod
    def load(cls) -> RegistryIndex:
        territories = list(Territory.objects.all())
        institutions = list(
            Institution.objects.only(
                "id", "full_name", "short_name", "type", "inn", "territory_id", "subordination"
            )
        )
        index = cls(
            territories={t.pk: t for t in territories},
            territory_by_oktmo={t.oktmo: t for t in territories},
            territories_by_key=_group(territories, lambda t: name_key(t.name)),
            territories_by_stem=_group(territories, lambda t: territory_stem(t.name)),
            institutions={i.pk: i for i in institutions},
            institution_by_inn={i.inn: i for i in institutions if i.inn},
            institutions_by_full=_group(
                institutions, lambda i: (i.territory_id, name_key(i.full_name))
            ),
            institutions_by_short=_group(
                institutions, lambda i: (i.territory_id, name_key(i.short_name))
            ),
            community_owner={},
        )
        rows = Community.objects.values_list("network", "network_id", "screen_name", "institution")
        for network, network_id, screen_name, owner in rows:
            if network_id is not None:
                index.community_owner[(network, "id", str(network_id))] = owner
            if screen_name:
                index.community_owner[(network, "name", screen_name.casefold())] = owner
        return index


def _group(items: Iterable[Any], key: Any) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped


def territory_key(territory: Territory) -> int | str:
    """A territory's identity while planning: its pk, or its code while it is still to create."""
    return territory.pk if territory.pk is not None else f"new:{territory.oktmo}"


def link_key(link: ParsedLink) -> tuple[str, str, str]:
    if link.network_id is not None:
        return (str(link.network), "id", str(link.network_id))
    return (str(link.network), "name", link.screen_name.casefold())


def plan_registry_import(
    sheet: RegistrySheet, *, index: RegistryIndex, dry_run: bool
) -> ImportPlan:
    """Decide for every row what the import would do; rows are checked against each other too."""
    planner = _Planner(index)
    rows = [planner.plan_row(row) for row in sheet.rows]
    if not rows:
        raise ValidationFailed(_("В файле нет ни одной строки с данными под заголовком."))
    new = [t for t in planner.index.territory_by_oktmo.values() if t.pk is None]
    return ImportPlan(sheet=sheet.title, rows=rows, dry_run=dry_run, new_territories=new,
                      columns=sheet.columns)


class _Planner:
    """Plans rows in file order, remembering which row first claimed each natural key."""

    def __init__(self, index: RegistryIndex) -> None:
        self.index = index
        self.claimed: dict[tuple[Any, ...], int] = {}

    def plan_row(self, row: SheetRow) -> RowPlan:
        values = row.values
        plan = RowPlan(
            number=row.number,
            action=PlanAction.UNCHANGED,
            institution=values.get(Column.SHORT_NAME) or values.get(Column.FULL_NAME, ""),
            territory=values.get(Column.TERRITORY, ""),
        )
        reasons = list(row.errors)
        fields = row_fields(values, reasons)
        if not (fields.get("full_name") or fields.get("short_name") or fields.get("inn")):
            reasons.append(_("Не указано наименование учреждения."))
        links = self._links(row, reasons)
        institution, identified = self._identify(plan, values, fields, reasons)
        if identified:
            self._claim(plan, fields, institution, reasons)
            self._communities(plan, links, institution, reasons)
        if reasons:
            plan.action, plan.reasons = PlanAction.REJECT, reasons
        elif institution is None:
            self._plan_create(plan, fields)
        else:
            self._plan_update(plan, fields, institution)
        return plan

    def _identify(
        self, plan: RowPlan, values: dict[Column, str], fields: dict[str, Any], reasons: list[str]
    ) -> tuple[Institution | None, bool]:
        """The row's institution (None: a new one), and whether the row pins it down at all."""
        territory = self._territory(values, reasons)
        if territory is None:
            return None, False
        plan.territory, fields["territory"] = territory.name, territory
        known = len(reasons)
        institution = self._institution(fields, reasons)
        if len(reasons) > known:
            return None, False
        if institution is None and not (fields.get("full_name") or fields.get("short_name")):
            if fields.get("inn"):
                reasons.append(
                    _("Учреждение с ИНН %(inn)s не найдено, а наименование для нового не указано.")
                    % {"inn": fields["inn"]}
                )
            return None, False
        return institution, True

    def _territory(self, values: dict[Column, str], reasons: list[str]) -> Territory | None:
        name, oktmo = values.get(Column.TERRITORY, ""), values.get(Column.OKTMO, "")
        if oktmo:
            return self._territory_by_oktmo(name, oktmo, reasons)
        if not name:
            reasons.append(at(Column.TERRITORY, _("Не указана территория.")))
            return None
        index = self.index
        found = index.territories_by_key.get(name_key(name)) or index.territories_by_stem.get(
            territory_stem(name), []
        )
        if len(found) == 1:
            return found[0]
        if found:
            reasons.append(at(Column.TERRITORY, _(
                "Название территории «%(name)s» неоднозначно: укажите код ОКТМО.")
                % {"name": name}))
        else:
            reasons.append(at(Column.TERRITORY, _(
                "Территория «%(name)s» не найдена в реестре; чтобы создать её, укажите код ОКТМО "
                "в колонке «ОКТМО».") % {"name": name}))
        return None

    def _territory_by_oktmo(self, name: str, oktmo: str, reasons: list[str]) -> Territory | None:
        try:
            validate_oktmo(oktmo)
        except ValidationError as exc:
            reasons.extend(at(Column.OKTMO, m) for m in exc.messages)
            return None
        territory = self.index.territory_by_oktmo.get(oktmo)
        if territory is None and name:
            return self._new_territory(name, oktmo)
        if territory is None:
            reasons.append(at(Column.OKTMO, _(
                "Территории с кодом ОКТМО %(code)s нет в реестре; чтобы создать её, укажите "
                "название в колонке «Территория».") % {"code": oktmo}))
        elif name and territory_stem(name) != territory_stem(territory.name):
            reasons.append(at(Column.OKTMO, _(
                "Код ОКТМО %(code)s принадлежит территории «%(real)s», а в строке указано "
                "«%(name)s».") % {"code": oktmo, "real": territory.name, "name": name}))
            return None
        return territory

    def _new_territory(self, name: str, oktmo: str) -> Territory:
        """A territory the file introduces; later rows with its code or name find it too."""
        territory = Territory(name=name, oktmo=oktmo, kind=territory_kind(name))
        self.index.territory_by_oktmo[oktmo] = territory
        self.index.territories_by_key.setdefault(name_key(name), []).append(territory)
        self.index.territories_by_stem.setdefault(territory_stem(name), []).append(territory)
        return territory

    def _institution(self, fields: dict[str, Any], reasons: list[str]) -> Institution | None:
        """Match by INN; else by (territory, name) — but never over a different INN."""
        inn = fields.get("inn")
        if inn and inn in self.index.institution_by_inn:
            return self.index.institution_by_inn[inn]
        territory_id = territory_key(fields["territory"])
        if "full_name" not in fields and "short_name" not in fields:
            return None
        if "full_name" in fields:
            by_name, name = self.index.institutions_by_full, fields["full_name"]
        else:
            by_name, name = self.index.institutions_by_short, fields["short_name"]
        found = by_name.get((territory_id, name_key(name)))
        if not found:
            return None
        if len(found) > 1:
            reasons.append(
                _("В этой территории несколько учреждений с таким наименованием: укажите ИНН.")
            )
            return None
        if inn and found[0].inn and found[0].inn != inn:
            reasons.append(
                _(
                    "В реестре уже есть «%(name)s» в этой территории с другим ИНН (%(inn)s); "
                    "проверьте ИНН."
                )
                % {"name": found[0].short_name, "inn": found[0].inn}
            )
            return None
        return found[0]

    def _links(self, row: SheetRow, reasons: list[str]) -> list[ParsedLink]:
        links: dict[tuple[str, str, str], ParsedLink] = {}
        for network, token in row.links:
            try:
                link = parse_link_token(token, network)
            except LinkError as exc:
                reasons.append(at(Column.VK if network == Network.VK else Column.OK, str(exc)))
                continue
            links.setdefault(link_key(link), link)
        return list(links.values())

    def _claim(
        self, plan: RowPlan, fields: dict[str, Any], institution: Institution | None,
        reasons: list[str],
    ) -> None:
        """The same institution or INN may appear in one row of the file only."""
        if institution is not None:
            keys = [("institution", institution.pk)]
        else:
            name = fields.get("full_name") or fields["short_name"]
            keys = [("name", territory_key(fields["territory"]), name_key(name))]
        if fields.get("inn"):
            keys.append(("inn", fields["inn"]))
        for key in keys:
            first = self.claimed.setdefault(key, plan.number)
            if first != plan.number:
                reasons.append(_("Это учреждение уже указано в строке %(n)s.") % {"n": first})
                return

    def _communities(
        self, plan: RowPlan, links: list[ParsedLink], institution: Institution | None,
        reasons: list[str],
    ) -> None:
        for link in links:
            key = link_key(link)
            first = self.claimed.setdefault(("link", *key), plan.number)
            if first != plan.number:
                reasons.append(
                    _("Ссылка %(url)s уже указана в строке %(n)s.") % {"url": link.url, "n": first}
                )
                continue
            owner = self.index.community_owner.get(key)
            if owner is None:
                plan.new_communities.append(link)
            elif institution is not None and owner == institution.pk:
                plan.kept_communities += 1
            else:
                other = self.index.institutions.get(owner)
                reasons.append(
                    _("Сообщество %(url)s уже принадлежит другому учреждению: «%(name)s».")
                    % {"url": link.url, "name": other.short_name if other else owner}
                )

    def _plan_create(self, plan: RowPlan, fields: dict[str, Any]) -> None:
        if "type" not in fields:
            plan.action, plan.reasons = PlanAction.REJECT, [
                _("Не указан тип учреждения — он нужен для нового учреждения.")
            ]
            return
        fields.setdefault("full_name", fields.get("short_name"))
        fields.setdefault("short_name", fields["full_name"])
        fields.setdefault("subordination", Subordination.MUNICIPAL)
        if len(fields["short_name"]) > Institution._meta.get_field("short_name").max_length:
            plan.action, plan.reasons = PlanAction.REJECT, [
                _("Краткое наименование не указано, а полное длиннее 200 символов: "
                  "добавьте колонку «Краткое наименование».")
            ]
            return
        plan.action, plan.fields = PlanAction.CREATE, fields
        plan.institution = fields["short_name"]
        plan.changes = [_("новое учреждение"), *_community_changes(plan.new_communities)]

    def _plan_update(self, plan: RowPlan, fields: dict[str, Any], institution: Institution) -> None:
        plan.institution_id, plan.institution = institution.pk, institution.short_name
        for name, value in fields.items():
            if name == "territory":
                current: Any = self.index.territories[institution.territory_id]
            else:
                current = getattr(institution, name)
            if name in ("full_name", "short_name") and name_key(current) == name_key(value):
                continue
            if current != value:
                plan.fields[name] = value
                plan.changes.append(_field_change(institution, name, current, value))
        plan.changes += _community_changes(plan.new_communities)
        if plan.changes:
            plan.action = PlanAction.UPDATE


def _field_change(institution: Institution, name: str, current: Any, value: Any) -> str:
    label = str(Institution._meta.get_field(name).verbose_name)
    if name == "territory":
        before, after = current.name, value.name
    elif name == "type":
        before, after = institution.get_type_display(), InstitutionType(value).label
    elif name == "subordination":
        before, after = institution.get_subordination_display(), Subordination(value).label
    else:
        before, after = current or "—", value
    return f"{label}: «{before}» → «{after}»"


def _community_changes(links: list[ParsedLink]) -> list[str]:
    return [
        _("новое сообщество %(network)s %(url)s")
        % {"network": Network(link.network).label, "url": link.url}
        for link in links
    ]
