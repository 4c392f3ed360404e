"""The emulated OK methods: group.getInfo, group.getStatTrends, mediatopic.getTopics, held to
``ok_contract.json`` (see ok_contract.py)."""

from __future__ import annotations

from typing import Any

from emulator import data, ok_contract
from emulator.protocol import OK_APPLICATIONS, ApiFailure, TokenInfo, parse_ids, token_info
from emulator.state import Emulator
from metrics.ok.client import signature


def ok_failure(code: int, text: str = "") -> ApiFailure:
    """OK's error ``code`` with its message (the error's name first, as OK writes it)."""
    return ApiFailure(code, ok_contract.error_message(code, text))


def ok_auth(params: dict, token: str) -> TokenInfo:
    """The session of a request signed as OK signs, with a known application key."""
    secret = OK_APPLICATIONS.get(params.get("application_key", ""))
    if secret is None:
        raise ok_failure(101, "Application key is invalid")
    expected = signature(params, access_token=token, secret_key=secret)
    if params.get("sig", "").lower() != expected:
        raise ok_failure(104, "Invalid signature")
    info = token_info("ok", token)
    if info is None:
        raise ok_failure(102, "Session expired")
    if params.get("format", "").lower() != "json":
        raise ok_failure(100, "the emulator answers format=json only")
    return info


def ok_call(emu: Emulator, info: TokenInfo, method: str, params: dict) -> Any:
    """One OK method; raises ApiFailure."""
    spec = ok_contract.method(method)
    if spec is None:
        raise ok_failure(3, f"Method {method} not found")
    try:
        ok_contract.check_params(method, params)
    except ok_contract.ParamError as exc:
        raise ok_failure(100, str(exc)) from exc
    if method == "group.getInfo":
        uids = parse_ids(params.get("uids"), limit=100,
                         failure=lambda text: ok_failure(100, f"uids: {text}"))
        groups = [data.ok_group(emu.seed, uid, emu.today()) for uid in uids]
        return [g for g in groups if g is not None]
    if method == "group.getStatTrends":
        return _stat_trends(emu, info, params)
    return ok_topics(emu, params)


def _stat_trends(emu: Emulator, info: TokenInfo, params: dict) -> dict:
    gid = int(params["gid"])
    start, end = int(params.get("start_time") or 0), int(params.get("end_time") or 0)
    if data.ok_fate(emu.seed, gid) in ("deleted", "banned"):
        raise ok_failure(300, "Group not found")
    if not info.administers(gid):
        raise ok_failure(10, "Only group administrators and moderators may read its statistics")
    fields = [f.lower() for f in str(params["fields"]).split(",") if f]
    return data.ok_stat_trends(emu.seed, gid, start, end, fields)


def ok_topics(emu: Emulator, params: dict) -> dict:
    """A group's feed, newest first, paged by an opaque anchor (direction FORWARD: older)."""
    gid, count = int(params["gid"]), int(params.get("count") or 10)
    if params.get("direction", "FORWARD") != "FORWARD":
        raise ok_failure(100, "the emulator pages FORWARD only")
    fate = data.ok_fate(emu.seed, gid)
    if fate in ("deleted", "banned"):
        raise ok_failure(300, "Group not found")
    if fate == "closed":
        raise ok_failure(10, "Group is private")
    try:
        offset = data.anchor_offset(params.get("anchor", ""))
    except ValueError as exc:
        raise ok_failure(100, "Invalid anchor") from exc
    fields = {f.strip().lower() for f in str(params.get("fields", "")).split(",")}
    topics, more = data.ok_topics(emu.seed, gid, emu.today(), offset=offset, count=count,
                                  fields=fields)
    return {"media_topics": topics, "anchor": data.offset_anchor(offset + len(topics)),
            "has_more": more}
