"""A threaded HTTP server that answers like VK's and OK's APIs, limits and errors included.

VK: ``POST|GET /method/<name>`` (groups.getById, utils.resolveScreenName, wall.get, stats.get,
execute). OK: ``POST|GET /fb.do`` (group.getInfo, group.getStatTrends, mediatopic.getTopics),
signed as OK signs.
Control: ``GET /_emulator/stats`` (counters), ``POST /_emulator/reset`` (counters, windows, daily
quotas and faults back to the start), ``GET|POST /_emulator/faults`` (see faults.py; JSON body
``{"spec": "...", "daily_limits": {"wall.get": 10}, "today": "2026-03-02", "clear": true}``).

Tokens (documented in emulator/__init__.py) decide the rate: VK community tokens
``vkemu-grp-<id>-…`` get 20 requests a second, every other token 3; beyond, VK error 6 / OK 8.
A request counts at the moment its handler starts, in a sliding one-second window per token.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulator import data, vkscript
from emulator.faults import Fault, parse_spec
from metrics.ok.client import signature

VK_RATE, VK_COMMUNITY_RATE, OK_RATE = 3, 20, 3
EXECUTE_MAX_CALLS = 25
DEFAULT_DAILY_LIMITS = {
    "groups.getById": 100_000, "utils.resolveScreenName": 10_000, "wall.get": 10_000,
    "stats.get": 5_000, "group.getInfo": 100_000, "group.getStatTrends": 5_000,
    "mediatopic.getTopics": 10_000,
}
OK_TOPICS_MAX = 100
OK_APPLICATIONS = {"CBAEMULATOR": "emulator-secret"}
VK_MESSAGES = {
    3: "Unknown method passed", 5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second", 7: "Permission to perform this action is denied",
    9: "Flood control", 10: "Internal server error", 12: "Unable to compile code",
    13: "Runtime error occurred during code invocation: Too many API calls",
    15: "Access denied", 18: "Page deleted or blocked", 29: "Rate limit reached",
    30: "This profile is private", 100: "One of the parameters specified was missing or invalid",
    203: "Access to group denied",
}
OK_MESSAGES = {
    2: "SERVICE : Service temporarily unavailable", 3: "METHOD : Method not found",
    8: "FLOOD_BLOCKED : Too many requests", 10: "PERMISSION_DENIED : Permission denied",
    11: "LIMIT_REACHED : Daily limit reached", 100: "PARAM : Invalid parameter",
    101: "PARAM_API_KEY : Application key is invalid",
    102: "PARAM_SESSION_EXPIRED : Session expired", 104: "PARAM_SIGNATURE : Invalid signature",
    300: "NOT_FOUND : Group not found",
}


class ApiFailure(Exception):
    """An API error answer (VK or OK code)."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class TokenInfo:
    """What the emulator knows about a token: its rate and the communities it administers."""

    token: str
    rate: int
    admin_all: bool = False
    admin_of: frozenset[int] = frozenset()
    community_id: int | None = None

    def administers(self, gid: int) -> bool:
        return self.admin_all or gid in self.admin_of or gid == self.community_id


_ADMIN = re.compile(r"^(?:vk|ok)emu-adm-(all|[\d_]+)(?:-.*)?$")
_COMMUNITY = re.compile(r"^vkemu-grp-(\d+)(?:-.*)?$")


def token_info(network: str, token: str) -> TokenInfo | None:
    """Recognise an emulator token (``vkemu-…``/``okemu-…``; ``…-revoked…`` never works)."""
    if not token.startswith(f"{network}emu-") or "revoked" in token:
        return None
    if match := _COMMUNITY.match(token):
        return TokenInfo(token, VK_COMMUNITY_RATE, community_id=int(match.group(1)))
    rate = VK_RATE if network == "vk" else OK_RATE
    if match := _ADMIN.match(token):
        ids = match.group(1)
        if ids == "all":
            return TokenInfo(token, rate, admin_all=True)
        return TokenInfo(token, rate, admin_of=frozenset(int(i) for i in ids.split("_") if i))
    return TokenInfo(token, rate)


def _ids(text: Any, *, limit: int) -> list[int]:
    parts = [p for p in str(text or "").split(",") if p.strip()]
    if len(parts) > limit:
        raise ApiFailure(100, f"{VK_MESSAGES[100]}: too many ids")
    try:
        return [int(p) for p in parts]
    except ValueError as exc:
        raise ApiFailure(100, VK_MESSAGES[100]) from exc


class Emulator:
    """The emulated networks' state: counters, rate windows, daily quotas, faults."""

    def __init__(self, *, seed: int = 1, faults: str = "", slow_seconds: float = 15.0) -> None:
        self.seed, self.slow_seconds = seed, slow_seconds
        self.lock = threading.Lock()
        self.initial_faults = faults
        self.reset()

    # --- state ---------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.counters: Counter[str] = Counter()
            self.by_method: Counter[str] = Counter()
            self.inner_calls: Counter[str] = Counter()
            self.by_token: Counter[str] = Counter()
            self.errors: Counter[str] = Counter()
            self.windows: dict[str, deque[float]] = defaultdict(deque)
            self.daily: Counter[tuple[str, str]] = Counter()
            self.daily_limits = dict(DEFAULT_DAILY_LIMITS)
            self.faults: list[Fault] = parse_spec(self.initial_faults,
                                                  slow_seconds=self.slow_seconds)
            self.rng = random.Random(self.seed)
            self.today_override: dt.date | None = None

    def configure(self, payload: dict) -> dict:
        faults = parse_spec(payload.get("spec", ""), slow_seconds=self.slow_seconds)
        with self.lock:
            if payload.get("clear"):
                self.faults = []
            self.faults += faults
            self.daily_limits.update(payload.get("daily_limits", {}))
            if "today" in payload:
                today = payload["today"]
                self.today_override = dt.date.fromisoformat(today) if today else None
        return self.describe_faults()

    def describe_faults(self) -> dict:
        with self.lock:
            return {"faults": [f.describe() for f in self.faults],
                    "daily_limits": self.daily_limits,
                    "today": self.today().isoformat()}

    def stats(self) -> dict:
        with self.lock:
            return {
                "seed": self.seed, "today": self.today().isoformat(),
                "requests": self.counters["requests"], "by_network": {
                    "vk": self.counters["vk"], "ok": self.counters["ok"]},
                "by_method": dict(self.by_method), "inner_calls": dict(self.inner_calls),
                "by_token": dict(self.by_token), "limit_errors": self.counters["limit_errors"],
                "daily_limit_errors": self.counters["daily_limit_errors"],
                "faults_fired": self.counters["faults"], "errors_by_code": dict(self.errors),
            }

    def today(self) -> dt.date:
        return self.today_override or dt.datetime.now(dt.UTC).date()

    # --- limits and faults ---------------------------------------------------------------------
    def count(self, network: str, method: str, token: str) -> None:
        with self.lock:
            self.counters["requests"] += 1
            self.counters[network] += 1
            self.by_method[method] += 1
            self.by_token[token] += 1

    def admit(self, info: TokenInfo, arrived: float) -> bool:
        """Sliding one-second window per token; every arrival counts, refused ones too."""
        with self.lock:
            window = self.windows[info.token]
            while window and window[0] <= arrived - 1.0:
                window.popleft()
            admitted = len(window) < info.rate
            window.append(arrived)
            if not admitted:
                self.counters["limit_errors"] += 1
            return admitted

    def spend(self, token: str, method: str) -> bool:
        """Count a call against the token's daily quota for the method."""
        with self.lock:
            self.daily[(token, method)] += 1
            within = self.daily[(token, method)] <= self.daily_limits.get(method, 10**9)
            if not within:
                self.counters["daily_limit_errors"] += 1
            return within

    def fault_for(self, method: str, *, inner: frozenset[str] = frozenset(),
                  inside_execute: bool = False) -> Fault | None:
        """The first fault that strikes a request, or (inside_execute) one call of an execute.

        Error faults strike the method they name (``*``: any request); transport faults (http,
        slow, truncated) strike a whole request, also when they name a call inside it.
        """
        with self.lock:
            for fault in self.faults:
                if inside_execute:
                    hit = fault.kind == "error" and fault.method == method
                elif fault.kind == "error":
                    hit = fault.matches(method)
                else:
                    hit = fault.matches(method) or fault.method in inner
                if hit and fault.fire(self.rng):
                    self.counters["faults"] += 1
                    return fault
        return None

    def record_error(self, key: str) -> None:
        with self.lock:
            self.errors[key] += 1

    # --- VK ------------------------------------------------------------------------------------
    def vk_call(self, info: TokenInfo, method: str, params: dict) -> Any:
        """One VK method (top level or inside execute); raises ApiFailure."""
        if not self.spend(info.token, method):
            raise ApiFailure(29, VK_MESSAGES[29])
        today = self.today()
        if method == "groups.getById":
            ids = _ids(params.get("group_ids") or params.get("group_id"), limit=500)
            if not ids:
                if info.community_id is None:
                    raise ApiFailure(100, f"{VK_MESSAGES[100]}: group_ids is undefined")
                ids = [info.community_id]
            admin = info.administers if "is_admin" in str(params.get("fields", "")) else None
            return {"groups": data.vk_groups(self.seed, ids, today, admin=admin), "profiles": []}
        if method == "utils.resolveScreenName":
            return data.resolve_screen_name(self.seed, str(params.get("screen_name", "")))
        if method == "wall.get":
            return self._wall(params, today)
        if method == "stats.get":
            return self._stats(info, params)
        raise ApiFailure(3, VK_MESSAGES[3])

    def _community(self, gid: int, *, closed_code: int | None) -> None:
        what = data.vk_fate(self.seed, gid)
        if what in ("deleted", "banned"):
            raise ApiFailure(18, VK_MESSAGES[18])
        if what == "closed" and closed_code:
            raise ApiFailure(closed_code, VK_MESSAGES[closed_code])

    def _wall(self, params: dict, today: dt.date) -> dict:
        try:
            owner, offset = int(params.get("owner_id", 0)), int(params.get("offset", 0))
            count = int(params.get("count", 20))
        except (TypeError, ValueError) as exc:
            raise ApiFailure(100, VK_MESSAGES[100]) from exc
        if owner >= 0 or not 0 <= count <= 100 or offset < 0:
            raise ApiFailure(100, VK_MESSAGES[100])
        self._community(-owner, closed_code=15)
        return data.wall(self.seed, -owner, today, offset=offset, count=count)

    def _stats(self, info: TokenInfo, params: dict) -> list[dict]:
        try:
            gid = int(params.get("group_id", 0))
            start, end = int(params["timestamp_from"]), int(params["timestamp_to"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiFailure(100, VK_MESSAGES[100]) from exc
        self._community(gid, closed_code=None)
        if not info.administers(gid):
            raise ApiFailure(7, VK_MESSAGES[7])
        return [data.vk_stats(self.seed, gid, start, end)]

    def vk_execute(self, info: TokenInfo, params: dict) -> dict:
        """Run the request's VKScript (see vkscript.py); failed calls are ``false`` in place."""
        errors: list[dict] = []

        def call(method: str, call_params: dict) -> Any:
            with self.lock:
                self.inner_calls[method] += 1
            try:
                fault = self.fault_for(method, inside_execute=True)
                if fault:
                    raise ApiFailure(fault.code, VK_MESSAGES.get(fault.code, "Injected fault"))
                return self.vk_call(info, method, call_params)
            except ApiFailure as failure:
                self.record_error(f"vk:{failure.code}")
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
    request_params = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
    request_params += [{"key": k, "value": str(v)} for k, v in params.items()
                       if k not in ("access_token", "code")]
    return {"error": {"error_code": code, "error_msg": message, "request_params": request_params}}


class Handler(BaseHTTPRequestHandler):
    """Routes requests to the VK, OK or control endpoints."""

    protocol_version = "HTTP/1.1"
    server_version = "NetworkEmulator/1.0"
    emulator: Emulator

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _params(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self._raw_body = body
        if body and "json" not in (self.headers.get("Content-Type") or ""):
            params.update({k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()})
        return parts.path, params

    def _dispatch(self) -> None:
        arrived = time.monotonic()
        path, params = self._params()
        try:
            if path.startswith("/method/"):
                self._vk(path[len("/method/"):], params, arrived)
            elif path.rstrip("/").endswith("fb.do"):
                self._ok(params, arrived)
            elif path.startswith("/_emulator/"):
                self._control(path[len("/_emulator/"):].strip("/"))
            else:
                self._send(404, b"not found", "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, payload: Any, *, truncated: bool = False) -> None:
        # An answer has no cycles (VKScript cannot make one): skipping the check saves ~8% of
        # encoding a big answer, and the bytes are the same.
        body = json.dumps(payload, ensure_ascii=False, check_circular=False).encode()
        self._send(200, body[: max(1, len(body) // 2)] if truncated else body)

    def _control(self, action: str) -> None:
        emu = self.emulator
        if action == "stats":
            self._json(emu.stats())
        elif action == "reset" and self.command == "POST":
            emu.reset()
            self._json({"ok": True})
        elif action == "faults":
            if self.command == "POST":
                try:
                    payload = json.loads(self._raw_body or "{}")
                    self._json(emu.configure(payload))
                except ValueError as exc:
                    self._send(400, json.dumps({"error": str(exc)}).encode())
            else:
                self._json(emu.describe_faults())
        else:
            self._send(404, b"{}")

    def _apply_fault(self, fault: Fault | None) -> tuple[bool, int | None]:
        """Apply a transport fault; return (answered already, error code to answer with)."""
        if fault is None:
            return False, None
        if fault.kind == "slow":
            time.sleep(fault.seconds)
            return False, None
        if fault.kind == "http":
            self.emulator.record_error(f"http:{fault.code}")
            self._send(fault.code, b"<html><body>Bad gateway</body></html>", "text/html")
            return True, None
        if fault.kind == "truncated":
            return False, -1
        return False, fault.code

    def _vk(self, method: str, params: dict, arrived: float) -> None:
        emu, token = self.emulator, params.get("access_token", "")
        emu.count("vk", method, token)
        inner: frozenset[str] = frozenset()
        if method == "execute":
            inner = frozenset(vkscript.methods(str(params.get("code", ""))))
        answered, code = self._apply_fault(emu.fault_for(method, inner=inner))
        if answered:
            return
        try:
            info = token_info("vk", token)
            if info is None:
                raise ApiFailure(5, VK_MESSAGES[5])
            if not emu.admit(info, arrived):
                raise ApiFailure(6, VK_MESSAGES[6])
            if code and code > 0:
                raise ApiFailure(code, VK_MESSAGES.get(code, "Injected fault"))
            if method == "execute":
                answer = emu.vk_execute(info, params)
            else:
                answer = {"response": emu.vk_call(info, method, params)}
        except ApiFailure as failure:
            emu.record_error(f"vk:{failure.code}")
            answer = vk_error_body(failure.code, failure.message, method, params)
        self._json(answer, truncated=code == -1)

    # --- OK ------------------------------------------------------------------------------------
    def _ok(self, params: dict, arrived: float) -> None:
        emu, method = self.emulator, params.get("method", "")
        token = params.get("access_token", "")
        emu.count("ok", method, token)
        answered, code = self._apply_fault(emu.fault_for(method))
        if answered:
            return
        try:
            info = self._ok_auth(params, token)
            if not emu.admit(info, arrived):
                raise ApiFailure(8, OK_MESSAGES[8])
            if code and code > 0:
                raise ApiFailure(code, OK_MESSAGES.get(code, "Injected fault"))
            if not emu.spend(token, method):
                raise ApiFailure(11, OK_MESSAGES[11])
            answer = self._ok_call(info, method, params)
        except ApiFailure as failure:
            emu.record_error(f"ok:{failure.code}")
            answer = {"error_code": failure.code, "error_msg": failure.message,
                      "error_data": None}
        self._json(answer, truncated=code == -1)

    def _ok_auth(self, params: dict, token: str) -> TokenInfo:
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

    def _ok_call(self, info: TokenInfo, method: str, params: dict) -> Any:
        emu = self.emulator
        if method == "group.getInfo":
            uids = _ids(params.get("uids"), limit=100)
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
            return self._ok_topics(params)
        raise ApiFailure(3, OK_MESSAGES[3])

    def _ok_topics(self, params: dict) -> dict:
        """A group's feed, newest first, paged by an opaque anchor (direction FORWARD: older)."""
        emu = self.emulator
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


def make_server(*, host: str = "127.0.0.1", port: int, seed: int = 1, faults: str = "",
                slow_seconds: float = 15.0) -> ThreadingHTTPServer:
    """A ready server (call ``serve_forever``); the emulator is ``server.emulator``."""
    emulator = Emulator(seed=seed, faults=faults, slow_seconds=slow_seconds)
    handler = type("BoundHandler", (Handler,), {"emulator": emulator})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.emulator = emulator  # type: ignore[attr-defined]
    return server
