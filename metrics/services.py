"""Writes of monthly indicator values. Every path that changes a value goes through here.

Three kinds of writer exist: the collectors (``api_values_record``), people on the entry page or
the API, and imported files (``values_write``, called by the workflow's ``report_values_save``
after the workflow's checks). Every changed row gets a django-simple-history entry saying who,
through which channel and in which report state it changed. An approved month is never changed.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from metrics.choices import Indicator, ValueSource
from metrics.locks import NO_REPORT, MonthLock, effective_values_changed, month_locks
from metrics.models import MetricValue
from portal.errors import Locked
from portal.lib.months import month_label

API_SOURCES = {ValueSource.VK_API, ValueSource.OK_API}
PERSON_SOURCES = {ValueSource.MANUAL, ValueSource.IMPORT}

# (community id, first day of the month, indicator)
CellKey = tuple[int, dt.date, str]


@dataclass(frozen=True)
class ValueChange:
    """One cell that a write changes (or would change): old → new."""

    community_id: int
    month: dt.date
    indicator: str
    old: int | None
    new: int | None
    created: bool

    def as_dict(self) -> dict:
        return {
            "community": self.community_id,
            "month": self.month.strftime("%Y-%m"),
            "indicator": self.indicator,
            "old": self.old,
            "new": self.new,
            "created": self.created,
        }


def _history_reason(channel: str, lock: MonthLock | None) -> str:
    return f"{channel}; отчёт: {(lock or NO_REPORT).label}"[:100]


def _save_with_history(row: MetricValue, *, user, reason: str) -> None:
    row._history_user = user
    row._change_reason = reason
    row.save()


def values_current(*, keys: Iterable[CellKey]) -> dict[CellKey, MetricValue]:
    """The stored rows for the given cells (absent cells are missing from the answer)."""
    keys = set(keys)
    if not keys:
        return {}
    rows = MetricValue.objects.filter(
        community_id__in={k[0] for k in keys},
        month__in={k[1] for k in keys},
        indicator__in={k[2] for k in keys},
    )
    found = {(r.community_id, r.month, r.indicator): r for r in rows}
    return {k: v for k, v in found.items() if k in keys}


def values_diff(*, cells: Mapping[CellKey, int | None]) -> list[ValueChange]:
    """The changes writing ``cells`` would make; an unchanged cell is not a change."""
    current = values_current(keys=cells)
    changes = []
    for key, new in sorted(cells.items()):
        row = current.get(key)
        if row is None and new is None:
            continue
        if row is not None and row.value == new:
            continue
        changes.append(ValueChange(*key, old=row.value if row else None, new=new,
                                   created=row is None))
    return changes


@transaction.atomic
def values_write(
    *, cells: Mapping[CellKey, int | None], source: str, user, channel: str,
    source_file: str = "",
) -> list[ValueChange]:
    """Store figures people typed or imported; return what changed.

    A person's figure replaces an API figure as the effective value while ``api_value`` keeps
    what the API said. Refuses (``Locked``) to touch any approved month.
    """
    if source not in PERSON_SOURCES:
        raise ValueError(f"not a person's source: {source}")
    states = month_locks(community_ids={k[0] for k in cells}, months={k[1] for k in cells})
    _refuse_locked(cells, states)
    existing = {
        (r.community_id, r.month, r.indicator): r
        for r in MetricValue.objects.select_for_update().filter(
            community_id__in={k[0] for k in cells},
            month__in={k[1] for k in cells},
            indicator__in={k[2] for k in cells},
        )
    }
    changes = []
    for key, new in sorted(cells.items()):
        Indicator(key[2])
        row = existing.get(key)
        if (row is None and new is None) or (row is not None and row.value == new):
            continue
        changes.append(ValueChange(*key, old=row.value if row else None, new=new,
                                   created=row is None))
        if row is None:
            row = MetricValue(community_id=key[0], month=key[1], indicator=key[2])
        row.value, row.source, row.updated_by, row.is_confirmed = new, source, user, False
        row.source_file = source_file[:200]
        _save_with_history(row, user=user, reason=_history_reason(channel, states.get(key[:2])))
    return changes


def _refuse_locked(cells: Iterable[CellKey], states: Mapping[tuple[int, dt.date], MonthLock]
                   ) -> None:
    locked = sorted({k[1] for k in cells if states.get(k[:2], NO_REPORT).locked})
    if locked:
        months = ", ".join(month_label(m) for m in locked)
        raise Locked(f"Отчёт утверждён, значения изменить нельзя: {months}.")


@transaction.atomic
def values_confirm(*, community_id: int, month: dt.date, user, channel: str) -> int:
    """Mark the API figures of one community and month as confirmed by the institution."""
    states = month_locks(community_ids=[community_id], months=[month])
    rows = list(MetricValue.objects.select_for_update().filter(
        community_id=community_id, month=month, source__in=API_SOURCES, is_confirmed=False
    ))
    _refuse_locked([(community_id, month, r.indicator) for r in rows], states)
    count = 0
    for row in rows:
        row.is_confirmed, row.updated_by = True, user
        _save_with_history(
            row, user=user, reason=_history_reason(channel, states.get((community_id, month)))
        )
        count += 1
    return count


@transaction.atomic
def api_values_record(
    *, community_id: int, month: dt.date, values: dict[str, int], source: str
) -> int:
    """Store figures a network's API reported for a month; return how many rows changed.

    The API's figure is always kept in ``api_value``. It becomes the effective ``value`` only
    where no person has entered or overridden that value, and only while the month's report is
    still open (draft or returned). An approved month is left exactly as it is: nothing is
    recorded. Idempotent: the same call twice changes nothing the second time.
    """
    if source not in API_SOURCES:
        raise ValueError(f"not an API source: {source}")
    for indicator in values:
        Indicator(indicator)  # raises ValueError on an unknown indicator
    month = month.replace(day=1)
    state = month_locks(community_ids=[community_id], months=[month]).get(
        (community_id, month), NO_REPORT)
    if state.locked:
        return 0
    value_open = state.open
    existing = {
        v.indicator: v
        for v in MetricValue.objects.select_for_update().filter(
            community_id=community_id, month=month, indicator__in=list(values)
        )
    }
    now, reason = timezone.now(), _history_reason(ValueSource(source).label, state)
    changed = value_changed = 0
    for indicator, figure in values.items():
        row = existing.get(indicator)
        if row is None:
            row = MetricValue(
                community_id=community_id, month=month, indicator=indicator, value=None,
                source=source,
            )
        elif row.api_value == figure and row.api_source == source:
            continue
        row.api_value, row.api_source, row.api_collected_at = figure, source, now
        if value_open and row.source in API_SOURCES and row.value != figure:
            row.value, row.source, row.is_confirmed = figure, source, False
            value_changed += 1
        _save_with_history(row, user=None, reason=reason)
        changed += 1
    if value_changed and state.tracked:
        _reports_touch(community_ids=[community_id], month=month)
    return changed


# What a collector may change on a stored row; ``updated_at`` too, since ``bulk_update`` does not
# apply ``auto_now`` the way ``save()`` does for the one-by-one path.
API_VALUE_FIELDS = ["api_value", "api_source", "api_collected_at", "value", "source",
                    "is_confirmed", "updated_at"]


@transaction.atomic
def api_values_record_many(
    *, month: dt.date, values: Mapping[int, Mapping[str, int]], source: str
) -> int:
    """``api_values_record`` for many communities of one month in a few queries.

    The same rules row by row (approved months untouched, a person's figure kept, idempotent);
    rows and their history are written in bulk, a collection batch at a time.
    """
    if source not in API_SOURCES:
        raise ValueError(f"not an API source: {source}")
    for figures in values.values():
        for indicator in figures:
            Indicator(indicator)
    month = month.replace(day=1)
    states = month_locks(community_ids=list(values), months=[month])
    existing = {
        (v.community_id, v.indicator): v
        for v in MetricValue.objects.select_for_update().filter(
            community_id__in=list(values), month=month)
    }
    now, label = timezone.now(), ValueSource(source).label
    created: dict[str, list[MetricValue]] = {}
    updated: dict[str, list[MetricValue]] = {}
    touched: list[int] = []
    for community_id, figures in values.items():
        state = states.get((community_id, month), NO_REPORT)
        if state.locked:
            continue
        value_open = state.open
        reason = _history_reason(label, state)
        value_changed = False
        for indicator, figure in figures.items():
            row = existing.get((community_id, indicator))
            new = row is None
            if new:
                row = MetricValue(community_id=community_id, month=month, indicator=indicator,
                                  value=None, source=source)
            elif row.api_value == figure and row.api_source == source:
                continue
            row.api_value, row.api_source, row.api_collected_at = figure, source, now
            row.updated_at, row._history_user = now, None  # as save() and _save_with_history
            if value_open and row.source in API_SOURCES and row.value != figure:
                row.value, row.source, row.is_confirmed = figure, source, False
                value_changed = True
            (created if new else updated).setdefault(reason, []).append(row)
        if value_changed and state.tracked:
            touched.append(community_id)
    return _api_values_store(created, updated, touched, month)


def _api_values_store(created: Mapping[str, list[MetricValue]],
                      updated: Mapping[str, list[MetricValue]], touched: list[int],
                      month: dt.date) -> int:
    from simple_history.utils import bulk_create_with_history, bulk_update_with_history

    fast = connection.vendor == "postgresql"
    for reason, rows in created.items():
        if fast:
            _rows_with_history(rows, reason=reason, update=False)
        else:
            bulk_create_with_history(rows, MetricValue, batch_size=1000,
                                     default_change_reason=reason)
    for reason, rows in updated.items():
        if fast:
            _rows_with_history(rows, reason=reason, update=True)
        else:
            bulk_update_with_history(rows, MetricValue, API_VALUE_FIELDS, batch_size=1000,
                                     default_change_reason=reason)
    if touched:
        _reports_touch(community_ids=touched, month=month)
    return sum(map(len, created.values())) + sum(map(len, updated.values()))


def _rows_with_history(rows: list[MetricValue], *, reason: str, update: bool) -> None:
    """Insert (or update ``API_VALUE_FIELDS`` of) rows and write their history rows, in one
    statement each 1,000 rows (PostgreSQL).

    The same rows as ``bulk_create_with_history``/``bulk_update_with_history`` write — a
    ``+``/``~`` history row per value with the reason, no user — without a model instance per
    history row: a collection run stores tens of thousands of values. The columns come from
    the models, so they follow the schema; the rows travel as one JSON parameter.
    """
    from metrics.bulk import field_columns, recordset

    quote = connection.ops.quote_name
    meta, history = MetricValue._meta, MetricValue.history.model._meta
    tracked = [f for f in meta.concrete_fields if not f.primary_key]
    written = ([meta.pk, *(meta.get_field(name) for name in API_VALUE_FIELDS)] if update
               else tracked)
    names = ", ".join(quote(f.column) for f in written)
    values = ", ".join(f"v.{f.column}" for f in written)
    returned = ", ".join(quote(f.column) for f in [meta.pk, *tracked])
    returning = ", ".join(f"t.{quote(f.column)}" for f in [meta.pk, *tracked])
    history_columns = ", ".join(quote(history.get_field(f.name).column)
                                for f in [meta.pk, *tracked])
    now = timezone.now()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start:start + 1000]
            for row in chunk:
                row.updated_at = row.updated_at if update and row.updated_at else now
            source, payload = recordset(field_columns(written), (
                [getattr(row, f.attname) for f in written] for row in chunk))
            if update:
                sets = ", ".join(f"{quote(f.column)} = v.{f.column}" for f in written[1:])
                change = (f"UPDATE {quote(meta.db_table)} AS t SET {sets} FROM {source}"
                          f" WHERE t.{quote(meta.pk.column)} = v.{meta.pk.column}")
            else:
                change = (f"INSERT INTO {quote(meta.db_table)} AS t ({names})"
                          f" SELECT {values} FROM {source}")
            cursor.execute(
                f"WITH changed AS ({change} RETURNING {returning})"
                f" INSERT INTO {quote(history.db_table)} ({history_columns}, history_date,"
                f" history_change_reason, history_type, history_user_id)"
                f" SELECT {returned}, %s, %s, %s, NULL FROM changed",
                [payload, now, reason[:100], "~" if update else "+"])


def _reports_touch(*, community_ids: list[int], month: dt.date) -> None:
    """New effective figures make open entry pages stale: whoever tracks the month hears it."""
    effective_values_changed.send(sender=MetricValue, community_ids=community_ids, month=month)
