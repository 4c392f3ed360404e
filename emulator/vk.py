"""The emulated VK methods (groups.getById, utils.resolveScreenName, wall.get, stats.get) and
``execute``, refusing what VK's schema refuses (``vk_contract``).

Every call, alone or inside ``execute``, is checked the same way: the token's kind against the
method's ``access_token_type`` (a service token: error 28, a community token: 27), then the
parameters (error 100), then the token's daily quota (29).

``stats.get`` answers whole intervals (``interval``: day, week, month, year, all) counted in
Moscow time, as VK's statistics are: the interval holding ``timestamp_to`` (now when absent)
and the ones before it, back to the one holding ``timestamp_from`` or ``intervals_count`` of
them (one when neither is given), newest first. Each carries ``period_from``/``period_to``,
the interval's own bounds (``period_to`` is where the next interval starts), not the request's
timestamps. Unique visitors and reach are the interval's own: a month's are not the sum of its
days'.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from emulator import data, vk_contract, vkscript
from emulator.protocol import ApiFailure, TokenInfo, parse_ids, vk_failure
from emulator.state import Emulator

MSK = dt.timezone(dt.timedelta(hours=3), "MSK")
MAX_INTERVALS = 400
IMPLEMENTED = frozenset({"groups.getById", "utils.resolveScreenName", "wall.get", "stats.get"})


def refuse_token(info: TokenInfo, method: str) -> None:
    """VK's error for a token whose kind the method does not take (schema: access_token_type)."""
    wrong = vk_contract.wrong_token(method, info.kind)
    if wrong:
        raise ApiFailure(*wrong)


def vk_call(emu: Emulator, info: TokenInfo, method: str, params: dict) -> Any:
    """One VK method (top level or inside execute); raises ApiFailure."""
    if method not in IMPLEMENTED:
        raise vk_failure(3)
    refuse_token(info, method)
    try:
        vk_contract.check_params(method, params)
    except vk_contract.ParamError as exc:
        raise vk_failure(100, str(exc)) from exc
    if not emu.spend(info.token, method):
        raise vk_failure(29)
    today = emu.today()
    if method == "groups.getById":
        return _groups(emu, info, params, today)
    if method == "utils.resolveScreenName":
        return data.resolve_screen_name(emu.seed, str(params["screen_name"]))
    if method == "wall.get":
        return _wall(emu, params, today)
    return _stats(emu, info, params)


def _groups(emu: Emulator, info: TokenInfo, params: dict, today: dt.date) -> dict:
    asked = params.get("group_ids") or params.get("group_id")
    ids = parse_ids(asked, limit=500, failure=lambda text: vk_failure(100, f"group_ids {text}"))
    if not ids:
        if info.community_id is None:
            raise vk_failure(100, "group_ids is undefined")
        ids = [info.community_id]
    fields = params.get("fields") or ""
    fields = set(fields if isinstance(fields, list) else str(fields).split(","))
    admin = info.administers if "is_admin" in fields else None
    return {"groups": data.vk_groups(emu.seed, ids, today, admin=admin, fields=fields),
            "profiles": []}


def _community(emu: Emulator, gid: int, *, closed_code: int | None) -> None:
    what = data.vk_fate(emu.seed, gid)
    if what in ("deleted", "banned"):
        raise vk_failure(18, "community is deactivated")
    if what == "closed" and closed_code:
        raise vk_failure(closed_code, "this wall available only for community members")


def _wall(emu: Emulator, params: dict, today: dt.date) -> dict:
    owner = int(params.get("owner_id", 0))
    offset, count = int(params.get("offset", 0)), int(params.get("count", 20))
    if owner >= 0:
        raise vk_failure(100, "owner_id of a community is negative")
    _community(emu, -owner, closed_code=15)
    return data.wall(emu.seed, -owner, today, offset=offset, count=count)


# --- stats.get ------------------------------------------------------------------------------------
def _start_of(moment: dt.datetime, interval: str) -> dt.datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    if interval == "year":
        return day.replace(month=1, day=1)
    return day


def _step(start: dt.datetime, interval: str, sign: int) -> dt.datetime:
    """The start of the next (sign 1) or previous (sign -1) interval."""
    if interval in ("day", "week"):
        return start + dt.timedelta(days=sign * (7 if interval == "week" else 1))
    if interval == "year":
        return start.replace(year=start.year + sign)
    month = start.month - 1 + sign
    return start.replace(year=start.year + month // 12, month=month % 12 + 1)


def stats_periods(params: dict, now: int) -> list[tuple[int, int]]:
    """The intervals stats.get answers, newest first, as (period_from, period_to)."""
    interval = str(params.get("interval") or "day")
    end = int(float(params.get("timestamp_to") or now))
    begin = params.get("timestamp_from")
    begin = int(float(begin)) if begin not in (None, "") else None
    if begin is not None and begin > end:
        raise vk_failure(100, "timestamp_from should be less than timestamp_to")
    if interval == "all":
        return [(begin or 0, end)]
    count = int(params.get("intervals_count") or 0) or (MAX_INTERVALS if begin is not None
                                                       else 1)
    start, periods = _start_of(dt.datetime.fromtimestamp(end, MSK), interval), []
    while len(periods) < min(count, MAX_INTERVALS):
        periods.append((int(start.timestamp()), int(_step(start, interval, 1).timestamp())))
        if begin is not None and start.timestamp() <= begin:
            break
        start = _step(start, interval, -1)
    return periods


def _stats(emu: Emulator, info: TokenInfo, params: dict) -> list[dict]:
    if "group_id" not in params:
        raise vk_failure(100, "group_id is undefined")
    gid = int(params["group_id"])
    _community(emu, gid, closed_code=None)
    if not info.administers(gid):
        # VK: statistics are the admins'; a closed community does not even show it exists.
        if data.vk_fate(emu.seed, gid) == "closed":
            raise vk_failure(15, "no access to this community")
        raise vk_failure(7, "no access to statistics of this community")
    now = int(dt.datetime.combine(emu.today(), dt.time(12), tzinfo=dt.UTC).timestamp())
    groups = params.get("stats_groups")
    wanted = set(groups if isinstance(groups, list) else str(groups).split(",")) if groups \
        else None
    out = []
    for period_from, period_to in stats_periods(params, now):
        answer = data.vk_stats(emu.seed, gid, period_from, period_to)
        out.append({k: v for k, v in answer.items()
                    if wanted is None or k.startswith("period") or k in wanted})
    return out


# --- execute --------------------------------------------------------------------------------------
def vk_execute(emu: Emulator, info: TokenInfo, params: dict) -> dict:
    """Run the request's VKScript (see vkscript.py); failed calls are ``false`` in place."""
    refuse_token(info, "execute")
    errors: list[dict] = []

    def call(method: str, call_params: dict) -> Any:
        with emu.lock:
            emu.inner_calls[method] += 1
        try:
            fault = emu.fault_for(method, inside_execute=True)
            if fault:
                raise vk_failure(fault.code)
            result = vk_call(emu, info, method, call_params)
        except ApiFailure as failure:
            emu.record_error(f"vk:{failure.code}")
            emu.journal_add("vk", method, call_params, info, {"error": {
                "error_code": failure.code, "error_msg": failure.message}}, inside=True)
            errors.append({"method": method, "error_code": failure.code,
                           "error_msg": failure.message})
            return False
        emu.journal_add("vk", method, call_params, info, {"response": result}, inside=True)
        return result

    try:
        response = vkscript.run(str(params.get("code", "")), call)
    except vkscript.ScriptError as exc:
        raise vk_failure(exc.code) from exc
    answer: dict[str, Any] = {"response": response}
    if errors:
        answer["execute_errors"] = errors
    return answer


def vk_error_body(code: int, message: str, method: str, params: dict) -> dict:
    """VK's error answer, echoing the request's parameters but not its token or code."""
    request_params = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
    request_params += [{"key": k, "value": str(v)} for k, v in params.items()
                       if k not in ("access_token", "code")]
    return {"error": {"error_code": code, "error_msg": message, "request_params": request_params}}
