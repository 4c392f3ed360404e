"""The emulated VK methods (groups.getById, utils.resolveScreenName, wall.get, stats.get) and
``execute``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from emulator import data, vkscript
from emulator.protocol import VK_MESSAGES, ApiFailure, TokenInfo, parse_ids
from emulator.state import Emulator


def vk_call(emu: Emulator, info: TokenInfo, method: str, params: dict) -> Any:
    """One VK method (top level or inside execute); raises ApiFailure."""
    if not emu.spend(info.token, method):
        raise ApiFailure(29, VK_MESSAGES[29])
    today = emu.today()
    if method == "groups.getById":
        ids = parse_ids(params.get("group_ids") or params.get("group_id"), limit=500)
        if not ids:
            if info.community_id is None:
                raise ApiFailure(100, f"{VK_MESSAGES[100]}: group_ids is undefined")
            ids = [info.community_id]
        admin = info.administers if "is_admin" in str(params.get("fields", "")) else None
        return {"groups": data.vk_groups(emu.seed, ids, today, admin=admin), "profiles": []}
    if method == "utils.resolveScreenName":
        return data.resolve_screen_name(emu.seed, str(params.get("screen_name", "")))
    if method == "wall.get":
        return _wall(emu, params, today)
    if method == "stats.get":
        return _stats(emu, info, params)
    raise ApiFailure(3, VK_MESSAGES[3])


def _community(emu: Emulator, gid: int, *, closed_code: int | None) -> None:
    what = data.vk_fate(emu.seed, gid)
    if what in ("deleted", "banned"):
        raise ApiFailure(18, VK_MESSAGES[18])
    if what == "closed" and closed_code:
        raise ApiFailure(closed_code, VK_MESSAGES[closed_code])


def _wall(emu: Emulator, params: dict, today: dt.date) -> dict:
    try:
        owner, offset = int(params.get("owner_id", 0)), int(params.get("offset", 0))
        count = int(params.get("count", 20))
    except (TypeError, ValueError) as exc:
        raise ApiFailure(100, VK_MESSAGES[100]) from exc
    if owner >= 0 or not 0 <= count <= 100 or offset < 0:
        raise ApiFailure(100, VK_MESSAGES[100])
    _community(emu, -owner, closed_code=15)
    return data.wall(emu.seed, -owner, today, offset=offset, count=count)


def _stats(emu: Emulator, info: TokenInfo, params: dict) -> list[dict]:
    try:
        gid = int(params.get("group_id", 0))
        start, end = int(params["timestamp_from"]), int(params["timestamp_to"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ApiFailure(100, VK_MESSAGES[100]) from exc
    _community(emu, gid, closed_code=None)
    if not info.administers(gid):
        raise ApiFailure(7, VK_MESSAGES[7])
    return [data.vk_stats(emu.seed, gid, start, end)]


def vk_execute(emu: Emulator, info: TokenInfo, params: dict) -> dict:
    """Run the request's VKScript (see vkscript.py); failed calls are ``false`` in place."""
    errors: list[dict] = []

    def call(method: str, call_params: dict) -> Any:
        with emu.lock:
            emu.inner_calls[method] += 1
        try:
            fault = emu.fault_for(method, inside_execute=True)
            if fault:
                raise ApiFailure(fault.code, VK_MESSAGES.get(fault.code, "Injected fault"))
            return vk_call(emu, info, method, call_params)
        except ApiFailure as failure:
            emu.record_error(f"vk:{failure.code}")
            errors.append({"method": method, "error_code": failure.code,
                           "error_msg": failure.message})
            return False

    try:
        response = vkscript.run(str(params.get("code", "")), call)
    except vkscript.ScriptError as exc:
        raise ApiFailure(exc.code, VK_MESSAGES[exc.code]) from exc
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
