"""The emulated OK methods: group.getInfo, group.getStatTrends, mediatopic.getTopics."""

from __future__ import annotations

from typing import Any

from emulator import data
from emulator.protocol import (
    OK_APPLICATIONS,
    OK_MESSAGES,
    OK_TOPICS_MAX,
    ApiFailure,
    TokenInfo,
    parse_ids,
    token_info,
)
from emulator.state import Emulator
from metrics.ok.client import signature


def ok_auth(params: dict, token: str) -> TokenInfo:
    """The token of a request signed as OK signs, with a known application key."""
    secret = OK_APPLICATIONS.get(params.get("application_key", ""))
    if secret is None:
        raise ApiFailure(101, OK_MESSAGES[101])
    expected = signature(params, access_token=token, secret_key=secret)
    if params.get("sig", "").lower() != expected:
        raise ApiFailure(104, OK_MESSAGES[104])
    info = token_info("ok", token)
    if info is None:
        raise ApiFailure(102, OK_MESSAGES[102])
    return info


def ok_call(emu: Emulator, info: TokenInfo, method: str, params: dict) -> Any:
    """One OK method; raises ApiFailure."""
    if method == "group.getInfo":
        uids = parse_ids(params.get("uids"), limit=100)
        groups = [data.ok_group(emu.seed, uid, emu.today()) for uid in uids]
        return [g for g in groups if g is not None]
    if method == "group.getStatTrends":
        try:
            gid = int(params["gid"])
            start, end = int(params["start_time"]), int(params["end_time"])
        except (KeyError, ValueError) as exc:
            raise ApiFailure(100, OK_MESSAGES[100]) from exc
        if data.ok_fate(emu.seed, gid) in ("deleted", "banned"):
            raise ApiFailure(300, OK_MESSAGES[300])
        if not info.administers(gid):
            raise ApiFailure(10, OK_MESSAGES[10])
        fields = [f for f in str(params.get("fields", "")).split(",") if f]
        return data.ok_stat_trends(emu.seed, gid, start, end, fields)
    if method == "mediatopic.getTopics":
        return ok_topics(emu, params)
    raise ApiFailure(3, OK_MESSAGES[3])


def ok_topics(emu: Emulator, params: dict) -> dict:
    """A group's feed, newest first, paged by an opaque anchor (direction FORWARD: older)."""
    try:
        gid, count = int(params["gid"]), int(params.get("count") or 10)
    except (KeyError, ValueError) as exc:
        raise ApiFailure(100, OK_MESSAGES[100]) from exc
    if not 1 <= count <= OK_TOPICS_MAX or params.get("direction", "FORWARD") != "FORWARD":
        raise ApiFailure(100, f"{OK_MESSAGES[100]}: count or direction")
    fate = data.ok_fate(emu.seed, gid)
    if fate in ("deleted", "banned"):
        raise ApiFailure(300, OK_MESSAGES[300])
    if fate == "closed":
        raise ApiFailure(10, OK_MESSAGES[10])
    try:
        offset = data.anchor_offset(params.get("anchor", ""))
    except ValueError as exc:
        raise ApiFailure(100, f"{OK_MESSAGES[100]}: anchor") from exc
    fields = {f.strip() for f in str(params.get("fields", "")).split(",")}
    topics, more = data.ok_topics(emu.seed, gid, emu.today(), offset=offset, count=count,
                                  fields=fields)
    return {"media_topics": topics, "anchor": data.offset_anchor(offset + len(topics)),
            "has_more": more}
