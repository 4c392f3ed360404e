"""Ranking results: the plain row shared by pages, API, exports and published versions.

A *plain row* is a flat mapping with fixed keys (``place``, ``community``, ``value``, ``members``,
``members_date``, ``growth``, ``posts``...). Streaming consumers (CSV/XLSX, the JSON API) take plain
rows straight from the cursor; pages use the typed ``Ranking`` built from the same rows.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from institutions.choices import CommunityState
from institutions.models import Community
from metrics.choices import Indicator
from metrics.models import MemberSnapshot
from reports.counting import counting_line, pending_line, pending_values
from reports.rankings.definitions import (
    DATE_SUBSTITUTION_NOTE,
    ER_METRICS,
    GROWTH_METRICS,
    INTERACTIONS_NOTE,
    LEAGUE_BY_CODE,
    LEAGUES_NOTE,
    RANKING_METHOD_NOTE,
    SNAPSHOTS,
    VALUES,
    Metric,
    RankingParams,
    flagship_threshold,
)
from reports.rankings.query import filtered_communities, ranking_raw_rows, value_indicators

# Keys every plain row has, in a stable order (the API documents them).
BASE_KEYS = (
    "place", "league_place", "league", "community_id", "community", "network", "url", "state",
    "institution_id", "institution", "institution_type", "subordination", "territory_id",
    "territory", "members", "members_date", "value",
)
DATE_KEYS = ("members_date", "start_date", "t1_members_month")
PUBLIC_KEYS_DROPPED = ("community_id", "institution_id", "territory_id", "state")


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# --- Why a community has no figure --------------------------------------------------------------


def missing_reason(row: dict[str, Any], params: RankingParams,
                   first_date: dt.date | None) -> str:
    """Why a community has no figure in this ranking (Russian, shown to people)."""
    if row["state"] != CommunityState.ACTIVE:
        return f"Сообщество {CommunityState(row['state']).label.lower()}"
    if not row.get("institution_active", True):
        return "Учреждение не действует"
    if params.spec.source == SNAPSHOTS or params.flagship_only or params.league:
        reason = _snapshot_reason(row, params, first_date)
        if reason:
            return reason
    if params.spec.source == VALUES:
        return _values_reason(row, params)
    return "Нет данных за период"


def _snapshot_reason(row: dict[str, Any], params: RankingParams, first: dt.date | None) -> str:
    if first is None and row["members"] is None:
        return "Нет ни одной записи о числе участников"
    if row["members"] is None:
        return (f"Нет записи о числе участников на {params.date_to:%d.%m.%Y} или раньше: "
                f"первая запись — {first:%d.%m.%Y}")
    if params.metric in GROWTH_METRICS and row.get("start_members") is None:
        return (f"Нет записи о числе участников на {params.date_from:%d.%m.%Y} или раньше: "
                f"первая запись — {first:%d.%m.%Y}")
    if params.metric == "growth_pct" and row.get("start_members") == 0:
        return "На начало периода 0 участников: прирост в процентах не определён"
    return ""


def _values_reason(row: dict[str, Any], params: RankingParams) -> str:
    if params.metric == "t1_members":
        return "Количество участников по Таблице 1 за период не представлено"
    if all(row.get(ind) is None for ind in value_indicators(params)):
        return "Нет данных за период"
    if params.metric in ER_METRICS and row.get("interactions") is None:
        return "Нет данных о взаимодействиях (лайки, репосты, комментарии) за период"
    if params.metric == "er_post" and not row.get("posts"):
        return "Нет публикаций за период: ER по публикациям не определён"
    if params.metric == "er_views" and not row.get("views"):
        return "Нет данных о просмотрах за период: ER по просмотрам не определён"
    if params.metric in ("er_post", "er_day") and not row["members"]:
        return "Нет данных о числе участников на конец периода"
    return "Показатель за период не представлен"


def _first_snapshot_dates(ids: Iterable[int]) -> dict[int, dt.date]:
    """Each community's first member row: one index probe a community, not a scan of all
    its rows (``MIN(date) … GROUP BY`` read every snapshot of the communities)."""
    ids = list(ids)
    if not ids:
        return {}
    first = MemberSnapshot.objects.filter(community_id=OuterRef("pk")).order_by("date")
    rows = (Community.objects.filter(pk__in=ids)
            .annotate(first=Subquery(first.values("date")[:1]))
            .filter(first__isnull=False).values_list("pk", "first"))
    return dict(rows)


# --- Streaming ----------------------------------------------------------------------------------


class RankingStream:
    """The ranking as it leaves the database: iterate for ranked plain rows, then ``missing()``.

    Memory stays flat for ranked rows (they are not kept); the few rows without a figure are
    kept and get their reasons once the ranked rows are consumed.
    """

    def __init__(self, *, communities: QuerySet[Community], params: RankingParams,
                 lateral: bool | None = None, text_dates: bool = False) -> None:
        self.params = params
        # Not started here: the statement (and its transaction) begins when the rows are first
        # read. A streamed answer nobody reads must not leave a transaction open behind it.
        self._raw = ranking_raw_rows(communities=communities, params=params, lateral=lateral,
                                     text_dates=text_dates)
        self._names: tuple[str, ...] | None = None
        self._missing: list[dict[str, Any]] = []
        self._done = self._reasoned = False
        self._latest: Any = None

    @property
    def data_as_of(self) -> dt.date | None:
        """The latest member row used by a ranked community (known once iterated)."""
        return _as_date(self._latest)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._names is None:
            self._names = next(self._raw)
        names, latest = self._names, self._latest
        for raw in self._raw:
            row = dict(zip(names, raw, strict=True))
            if row["value"] is None:
                self._missing.append(row)
                continue
            del row["institution_active"]
            day = row["members_date"]
            if day is not None and (latest is None or day > latest):
                latest = day
            yield row
        self._latest, self._done = latest, True

    def missing(self) -> list[dict[str, Any]]:
        """Rows without a figure, each with ``reason`` (consumes the stream if needed)."""
        if not self._done:
            for _row in self:
                pass
        if self._reasoned:
            return self._missing
        self._reasoned = True
        need = [r["community_id"] for r in self._missing if r["state"] == CommunityState.ACTIVE]
        first = _first_snapshot_dates(need)
        for row in self._missing:
            row["reason"] = missing_reason(row, self.params, first.get(row["community_id"]))
            del row["institution_active"]
        return self._missing


# --- Typed results for pages --------------------------------------------------------------------


@dataclass
class RankingRow:
    """One community's line in a ranking (or in the list of those without data)."""

    community_id: int
    community_title: str
    network: str
    url: str
    institution_id: int
    institution_name: str
    institution_type: str
    subordination: str
    territory_id: int
    territory_name: str
    state: str
    value: float | int | None
    place: int | None
    league: str | None
    league_place: int | None
    members: int | None
    members_date: dt.date | None
    start_members: int | None = None
    start_date: dt.date | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    @classmethod
    def from_plain(cls, row: dict[str, Any]) -> RankingRow:
        known = {"community", "institution", "territory", "start_members", "start_date",
                 "reason", "institution_active", *BASE_KEYS}
        return cls(
            community_id=row["community_id"], community_title=row["community"],
            network=row["network"], url=row["url"], institution_id=row["institution_id"],
            institution_name=row["institution"], institution_type=row["institution_type"],
            subordination=row["subordination"], territory_id=row["territory_id"],
            territory_name=row["territory"], state=row["state"], value=row["value"],
            place=row["place"], league=row["league"], league_place=row["league_place"],
            members=row["members"], members_date=_as_date(row["members_date"]),
            start_members=row.get("start_members"), start_date=_as_date(row.get("start_date")),
            figures={k: _as_date(v) if k in DATE_KEYS else v
                     for k, v in row.items() if k not in known},
            reason=row.get("reason", ""),
        )

    @property
    def league_label(self) -> str:
        return LEAGUE_BY_CODE[self.league].label if self.league else ""

    @property
    def figure_items(self) -> list[tuple[str, Any]]:
        """The metric-specific figures with Russian labels, for pages."""
        return [(FIGURE_LABELS[key], value) for key, value in self.figures.items()
                if key in FIGURE_LABELS and value is not None]


FIGURE_LABELS = {
    "growth": "Прирост, чел.", "growth_pct": "Прирост, %",
    **{ind.value: ind.label for ind in Indicator if ind != Indicator.MEMBERS},
    "interactions": "Взаимодействия (лайки + репосты + комментарии)",
    "t1_members": "Участники по Таблице 1", "t1_members_month": "Месяц значения Таблицы 1",
}


class LazyRows(Sequence[RankingRow]):
    """The ranked plain rows, each made a ``RankingRow`` only when read (and then kept).

    A page shows 100 of a country's 130,000 rows; building all of them took 1.5 s.
    """

    def __init__(self, plain: list[dict[str, Any]]) -> None:
        self._plain = plain
        self._made: list[RankingRow | None] = [None] * len(plain)

    def __len__(self) -> int:
        return len(self._plain)

    @overload
    def __getitem__(self, index: int) -> RankingRow: ...

    @overload
    def __getitem__(self, index: slice) -> list[RankingRow]: ...

    def __getitem__(self, index: int | slice) -> RankingRow | list[RankingRow]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        made = self._made[index]
        if made is None:
            made = self._made[index] = RankingRow.from_plain(self._plain[index])
        return made


@dataclass
class Ranking:
    """A computed ranking: ranked rows, communities listed apart, and how it was computed."""

    params: RankingParams
    rows: Sequence[RankingRow]
    missing: list[RankingRow]
    computed_at: dt.datetime
    plain_rows: list[dict[str, Any]] = field(default_factory=list, repr=False)
    plain_missing: list[dict[str, Any]] = field(default_factory=list, repr=False)
    pending: int | None = 0

    @property
    def metric(self) -> Metric:
        return self.params.spec

    @property
    def pending_text(self) -> str:
        return pending_line(self.params.counting, self.pending)

    @property
    def counting_text(self) -> str:
        """Which reports' values were counted and how many of the period await approval."""
        return ranking_counting_line(self.params, self.pending)

    @property
    def data_as_of(self) -> dt.date | None:
        dates = [day for r in self.plain_rows if (day := _as_date(r["members_date"]))]
        return max(dates) if dates else None

    @property
    def substituted_dates(self) -> int:
        """How many ranked rows used an earlier snapshot than the requested dates."""
        return sum(used_earlier_date(_as_date(r["members_date"]), _as_date(r.get("start_date")),
                                     self.params) for r in self.plain_rows)

    def notes(self) -> list[str]:
        return ranking_notes(self.params)


def ranking_notes(params: RankingParams) -> list[str]:
    """The formula, the ranking method and the rules a reader needs next to the figures."""
    spec = params.spec
    notes = [spec.formula, RANKING_METHOD_NOTE, LEAGUES_NOTE]
    if spec.code in ER_METRICS or spec.code == "interactions":
        notes.insert(1, INTERACTIONS_NOTE)
    if spec.source == SNAPSHOTS or params.flagship_only or params.league:
        notes.insert(1, DATE_SUBSTITUTION_NOTE)
    if params.flagship_only:
        notes.append(f"Только флагманские: более {flagship_threshold()} участников на конец "
                     "периода.")
    return notes


def used_earlier_date(members_date: dt.date | None, start_date: dt.date | None,
                      params: RankingParams) -> bool:
    """Whether a row's figures come from a snapshot earlier than a requested date."""
    end_earlier = members_date is not None and members_date != params.date_to
    start_earlier = start_date is not None and start_date != params.date_from
    return end_earlier or (params.metric in GROWTH_METRICS and start_earlier)


def ranking_compute(
    *, communities: QuerySet[Community], params: RankingParams, lateral: bool | None = None
) -> Ranking:
    """Rank ``communities`` (already scoped to the reader) by ``params``.

    ``lateral`` picks the SQL shape (None: by database); both shapes give the same ranking.
    """
    stream = RankingStream(communities=communities, params=params, lateral=lateral)
    plain_rows = list(stream)
    plain_missing = stream.missing()
    return Ranking(
        params=params,
        rows=LazyRows(plain_rows),
        missing=[RankingRow.from_plain(r) for r in plain_missing],
        computed_at=timezone.now(), plain_rows=plain_rows, plain_missing=plain_missing,
        pending=ranking_pending(communities=communities, params=params),
    )


def ranking_pending(*, communities: QuerySet[Community], params: RankingParams) -> int | None:
    """Table-1 values of the ranking's communities and months still awaiting approval.

    None when the figure reads no Table-1 values (members, growth, posts, likes…): no report's
    approval changes it, and counting a region's pending values would only cost time.
    """
    if not params.reads_table1:
        return None
    return pending_values(communities=filtered_communities(communities, params),
                          first_month=params.first_month, last_month=params.last_month)


def ranking_counting_line(params: RankingParams, pending: int | None) -> str:
    """What the ranking counted, in words (see ``ranking_pending`` for ``None``)."""
    return pending_line(params.counting, None) if pending is None \
        else counting_line(params.counting, pending)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


class RankingJson:
    """The ranking for the JSON API as a stream: the database writes each ranked row's JSON.

    ``count`` and ``data_as_of`` are known as soon as it is built (window aggregates on every
    row, and the statement has run); ``ranked()`` then yields the ranked rows' JSON texts as the
    server-side cursor delivers them, and ``missing()`` the rows without a figure with their
    reasons. Only those rows (few) are kept, so memory stays flat at 130,000 communities.
    """

    def __init__(self, rows: Iterator[tuple[Any, ...]], params: RankingParams) -> None:
        self.params = params
        self._rows = rows
        self._first = next(rows, None)
        latest = self._first[3] if self._first else None
        self.data_as_of: str | None = latest.decode() if isinstance(latest, bytes) else latest
        self.count: int = self._first[4] if self._first else 0
        self._apart: list[dict[str, Any]] = []
        self._done = False

    def ranked(self) -> Iterator[bytes]:
        """The ranked rows' JSON texts (UTF-8) in ranking order (once)."""
        if self._first is not None:
            rows, self._first = itertools.chain([self._first], self._rows), None
        else:
            rows = self._rows
        for is_apart, active, text, _latest, _count in rows:
            if is_apart:
                self._apart.append({**json.loads(text), "institution_active": bool(active)})
            else:
                yield text
        self._done = True

    def missing(self) -> list[dict[str, Any]]:
        """Rows without a figure, each with ``reason`` (consumes the ranked rows if needed)."""
        if not self._done:
            for _text in self.ranked():
                pass
        todo = [r for r in self._apart if "reason" not in r]
        first = _first_snapshot_dates(
            [r["community_id"] for r in todo if r["state"] == CommunityState.ACTIVE])
        for row in todo:
            row["reason"] = missing_reason(row, self.params,
                                           _as_date(first.get(row["community_id"])))
        for row in self._apart:
            row.pop("institution_active", None)
        return self._apart

    def close(self) -> None:
        """Give the cursor and its transaction back if the reader stops early."""
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()


def _python_encoded(communities: QuerySet[Community],
                    params: RankingParams) -> Iterator[tuple[Any, ...]]:
    """``ranking_raw_rows(as_json=True)``'s rows with Python writing the JSON, all at once.

    SQLite's JSON writes floats with 15 digits, so there Python encodes the rows (exact, a little
    slower); the count and date are known only after the last row, so nothing streams.
    """
    stream = RankingStream(communities=communities, params=params, text_dates=True)
    ranked = [json.dumps(row, ensure_ascii=False, default=str).encode() for row in stream]
    latest, count = _iso(stream.data_as_of), len(ranked)
    apart = stream.missing()
    for text in ranked:
        yield False, True, text, latest, count
    for row in apart:
        yield True, True, json.dumps(row, ensure_ascii=False, default=str).encode(), latest, count


def ranking_json(*, communities: QuerySet[Community], params: RankingParams) -> RankingJson:
    """The ranking for the JSON API, streamed (see ``RankingJson``); the statement runs here."""
    if connection.vendor != "postgresql":
        return RankingJson(_python_encoded(communities, params), params)
    rows = ranking_raw_rows(communities=communities, params=params, as_json=True)
    next(rows)  # the column names
    return RankingJson(rows, params)


def ranking_for_user(*, user, params: RankingParams) -> Ranking:
    """The ranking as ``user`` may see it: only communities within the user's scope."""
    return ranking_compute(communities=Community.objects.visible_to(user), params=params)


def ranking_stream_for_user(*, user, params: RankingParams,
                            text_dates: bool = False) -> RankingStream:
    """The same ranking as a stream, for large exports and the API (``text_dates`` for JSON)."""
    return RankingStream(communities=Community.objects.visible_to(user), params=params,
                         text_dates=text_dates)
