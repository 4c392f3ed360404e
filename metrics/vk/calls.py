"""VK calls described as data (method, params, parser), runnable alone or inside ``execute``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from metrics.vk.answers import (
    GROUP_COLUMNS,
    WALL_COLUMNS,
    parse_group_columns,
    parse_groups_as_columns,
    parse_resolved,
    parse_stats,
    parse_wall,
    parse_wall_columns,
)

EXECUTE_MAX_CALLS = 25
GROUPS_PER_CALL = 500
WALL_PAGE = 100
GROUP_FIELDS = ("members_count,verified,screen_name,is_closed,deactivated,type,description,"
                "site,has_photo,cover,wall,addresses")
#: The token kinds (``TokenKind`` values) each method the portal calls takes: VK's schema's
#: ``access_token_type`` (``group`` is a community token). A call inside ``execute`` is held to
#: its own method's kinds as well, so batching needs a kind both take (``batch_kinds``).
TOKEN_KINDS: dict[str, frozenset[str]] = {
    "execute": frozenset({"user", "community"}),
    "groups.getById": frozenset({"user", "community", "service"}),
    "utils.resolveScreenName": frozenset({"user", "community", "service"}),
    "wall.get": frozenset({"user", "service"}),
    "stats.get": frozenset({"user"}),
}
#: VK counts statistics' days and months in Moscow time (UTC+3 all year).
VK_STATS_TZ = dt.timezone(dt.timedelta(hours=3))


def batch_kinds(methods: Iterable[str]) -> frozenset[str]:
    """The token kinds that may send these methods together in one ``execute``."""
    kinds = TOKEN_KINDS["execute"]
    for method in methods:
        kinds &= TOKEN_KINDS[method]
    return kinds


@dataclass(frozen=True)
class VkCall:
    """One API method call, runnable alone or inside execute.

    ``project`` (name, VKScript path) pairs say what to return of the answer inside
    ``execute``, read by ``parse_projected``; a failed call then comes back with a ``null``
    first field.
    """

    method: str
    params: dict[str, Any]
    parse: Callable[[Any], Any]
    project: tuple[tuple[str, str], ...] = ()
    parse_projected: Callable[[Any], Any] | None = None

    def script(self) -> str:
        return f"API.{self.method}({json.dumps(self.params, ensure_ascii=False)})"

    def projection(self, var: str) -> str:
        """The VKScript object of the projected fields of variable ``var``."""
        return "{" + ",".join(f'"{name}":{var}{path}' for name, path in self.project) + "}"

    def failed(self, result: Any) -> bool:
        if result is False:
            return True
        return bool(self.project) and (not isinstance(result, dict)
                                       or result.get(self.project[0][0]) is None)

    def read(self, result: Any) -> Any:
        return self.parse_projected(result) if self.project and self.parse_projected \
            else self.parse(result)



def groups_by_id_call(ids: Sequence[int], *, with_admin: bool = False) -> VkCall:
    """groups.getById of up to 500 ids; its answer is ``VkGroups`` (``groups_by_id`` reads the
    same request as ``VkGroup`` objects, with ``is_admin``)."""
    if len(ids) > GROUPS_PER_CALL:
        raise ValueError(f"groups.getById takes at most {GROUPS_PER_CALL} ids")
    fields = GROUP_FIELDS + (",is_admin" if with_admin else "")
    params: dict[str, Any] = {"fields": fields}
    if ids:
        params["group_ids"] = ",".join(str(i) for i in ids)
    return VkCall("groups.getById", params, parse_groups_as_columns, GROUP_COLUMNS,
                  parse_group_columns)


def resolve_call(screen_name: str) -> VkCall:
    return VkCall("utils.resolveScreenName", {"screen_name": screen_name}, parse_resolved)


def wall_call(group_id: int, *, offset: int = 0, count: int = WALL_PAGE) -> VkCall:
    params = {"owner_id": -group_id, "offset": offset, "count": count, "filter": "owner"}
    return VkCall("wall.get", params, parse_wall, WALL_COLUMNS, parse_wall_columns)


def stats_call(group_id: int, *, month: dt.date) -> VkCall:
    """stats.get of one calendar month as VK counts it (one ``month`` interval).

    VK aligns months in Moscow time and answers whole intervals; both ends asked are noons
    inside the month (its first and last day), so it is the same month in any time zone the
    portal runs in, and the answer is that month's own interval — unique visitors and reach of
    the month as VK counted them, which no sum of shorter intervals gives.
    """
    first, last = stats_month_noons(month)
    params = {"group_id": group_id, "timestamp_from": first, "timestamp_to": last,
              "interval": "month", "intervals_count": 1}
    return VkCall("stats.get", params, parse_stats)


def stats_month_noons(month: dt.date) -> tuple[int, int]:
    """Unix times of noon (Moscow) on the month's first and last day."""
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return tuple(int(dt.datetime.combine(day, dt.time(12), tzinfo=VK_STATS_TZ).timestamp())
                 for day in (first, following - dt.timedelta(days=1)))  # type: ignore[return-value]


def execute_code(calls: Sequence[VkCall]) -> str:
    """The VKScript of an ``execute``: the calls' answers in order, projected where asked."""
    if not any(call.project for call in calls):
        return "return [" + ",".join(call.script() for call in calls) + "];"
    assigned = "".join(f"var r{i}={call.script()};" for i, call in enumerate(calls))
    answers = ",".join(call.projection(f"r{i}") if call.project else f"r{i}"
                       for i, call in enumerate(calls))
    return f"{assigned}return [{answers}];"

