"""A threaded HTTP server that answers like VK's and OK's APIs, limits and errors included.

VK: ``POST|GET /method/<name>`` (groups.getById, utils.resolveScreenName, wall.get, stats.get,
execute). OK: ``POST|GET /fb.do`` (group.getInfo, group.getStatTrends, mediatopic.getTopics),
signed as OK signs.
Control: ``GET /_emulator/stats`` (counters), ``POST /_emulator/reset`` (counters, windows, daily
quotas, faults and the journal back to the start), ``GET|POST /_emulator/faults`` (see faults.py;
JSON body ``{"spec": "...", "daily_limits": {"wall.get": 10}, "today": "2026-03-02", "clear":
true, "journal": true}``), ``GET /_emulator/journal`` (every call and answer since the journal
was switched on, see state.py).

Tokens (documented in emulator/__init__.py; see protocol.py) decide the rate: VK community tokens
``vkemu-grp-<id>-…`` get 20 requests a second, every other token 3; beyond, VK error 6 / OK 8.
A request counts at the moment its handler starts, in a sliding one-second window per token.
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulator import oauth, ok, vk, vkscript
from emulator.faults import Fault
from emulator.protocol import ApiFailure, token_info, vk_failure
from emulator.state import Emulator


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
            elif path.startswith(("/vkid/", "/ok/oauth/")):
                self._oauth(path, params)
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

    def _oauth(self, path: str, params: dict) -> None:
        network = "vk" if path.startswith("/vkid/") else "ok"
        state = self.emulator.oauth
        try:
            if path.endswith("/authorize") and self.command == "GET":
                oauth.check_authorize(network, params)
                page = oauth.consent_page(network, params, path)
                self._send(200, page.encode(), "text/html; charset=utf-8")
            elif path.endswith("/authorize"):
                self.send_response(302)
                self.send_header("Location", oauth.approve(network, params, state))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path.endswith(("/oauth2/auth", "/token.do")) and self.command == "POST":
                self._json(oauth.token(network, params, state))
            else:
                self._send(404, b"{}")
        except oauth.OAuthError as exc:
            self._send(exc.status, json.dumps(exc.body()).encode())

    def _control(self, action: str) -> None:
        emu = self.emulator
        if action == "stats":
            self._json(emu.stats())
        elif action == "reset" and self.command == "POST":
            emu.reset()
            self._json({"ok": True})
        elif action == "journal":
            self._json(emu.journal_read())
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
        info = None
        try:
            info = token_info("vk", token)
            if info is None:
                raise vk_failure(5)
            if not emu.admit(info, arrived):
                raise vk_failure(6)
            if code and code > 0:
                raise vk_failure(code)
            if method == "execute":
                answer = vk.vk_execute(emu, info, params)
            else:
                answer = {"response": vk.vk_call(emu, info, method, params)}
        except ApiFailure as failure:
            emu.record_error(f"vk:{failure.code}")
            answer = vk.vk_error_body(failure.code, failure.message, method, params)
        emu.journal_add("vk", method, params, info, answer)
        self._json(answer, truncated=code == -1)

    def _ok(self, params: dict, arrived: float) -> None:
        emu, method = self.emulator, params.get("method", "")
        token = params.get("access_token", "")
        emu.count("ok", method, token)
        answered, code = self._apply_fault(emu.fault_for(method))
        if answered:
            return
        info = None
        try:
            info = ok.ok_auth(params, token)
            if not emu.admit(info, arrived):
                raise ok.ok_failure(8, "Too many requests")
            if code and code > 0:
                raise ok.ok_failure(code, "injected fault")
            if not emu.spend(token, method):
                raise ok.ok_failure(11, "Daily limit reached")
            answer = ok.ok_call(emu, info, method, params)
        except ApiFailure as failure:
            emu.record_error(f"ok:{failure.code}")
            answer = {"error_code": failure.code, "error_msg": failure.message,
                      "error_data": None}
        emu.journal_add("ok", method, params, info, answer)
        self._json(answer, truncated=code == -1)


def make_server(*, host: str = "127.0.0.1", port: int, seed: int = 1, faults: str = "",
                slow_seconds: float = 15.0) -> ThreadingHTTPServer:
    """A ready server (call ``serve_forever``); the emulator is ``server.emulator``."""
    emulator = Emulator(seed=seed, faults=faults, slow_seconds=slow_seconds)
    handler = type("BoundHandler", (Handler,), {"emulator": emulator})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.emulator = emulator  # type: ignore[attr-defined]
    return server
