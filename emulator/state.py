"""The emulated networks' state: counters, rate windows, daily quotas, faults, the journal.

The journal (off unless ``configure({"journal": true})``; ``reset`` empties and stops it) keeps
every call and its answer as the network saw them: method, parameters (never the token), the
token's kind, whether the call ran inside ``execute``, and the answer body. The contract tests
read it (``GET /_emulator/journal``) to hold real collector runs to VK's schema and OK's
contract file.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter, defaultdict, deque

from emulator.faults import Fault, parse_spec
from emulator.oauth import OAuthState
from emulator.protocol import TokenInfo

JOURNAL_MAX = 20_000

DEFAULT_DAILY_LIMITS = {
    "groups.getById": 100_000, "utils.resolveScreenName": 10_000, "wall.get": 10_000,
    "stats.get": 5_000, "group.getInfo": 100_000, "group.getStatTrends": 5_000,
    "mediatopic.getTopics": 10_000,
}


class Emulator:
    """The emulated networks' state: counters, rate windows, daily quotas, faults, the journal.

The journal (off unless ``configure({"journal": true})``; ``reset`` empties and stops it) keeps
every call and its answer as the network saw them: method, parameters (never the token), the
token's kind, whether the call ran inside ``execute``, and the answer body. The contract tests
read it (``GET /_emulator/journal``) to hold real collector runs to VK's schema and OK's
contract file.
"""

    def __init__(self, *, seed: int = 1, faults: str = "", slow_seconds: float = 15.0) -> None:
        self.seed, self.slow_seconds = seed, slow_seconds
        self.lock = threading.Lock()
        self.initial_faults = faults
        self.oauth = OAuthState()
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
            self.daily: Counter[tuple[dt.date, str, str]] = Counter()
            self.daily_limits = dict(DEFAULT_DAILY_LIMITS)
            self.faults: list[Fault] = parse_spec(self.initial_faults,
                                                  slow_seconds=self.slow_seconds)
            self.rng = random.Random(self.seed)
            self.today_override: dt.date | None = None
            self.journal: list[dict] | None = None

    def configure(self, payload: dict) -> dict:
        faults = parse_spec(payload.get("spec", ""), slow_seconds=self.slow_seconds)
        with self.lock:
            if payload.get("clear"):
                self.faults = []
            self.faults += faults
            self.daily_limits.update(payload.get("daily_limits", {}))
            if "journal" in payload:
                self.journal = [] if payload["journal"] else None
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

    def journal_add(self, network: str, method: str, params: dict, info: TokenInfo | None,
                    answer: object, *, inside: bool = False) -> None:
        """Keep a call and its answer, if the journal is on (see the module docstring)."""
        if self.journal is None:
            return
        entry = {"network": network, "method": method, "inside_execute": inside,
                 "token_kind": info.kind if info else None, "answer": answer,
                 "params": {k: v for k, v in params.items()
                            if k not in ("access_token", "sig", "session_key")}}
        with self.lock:
            if self.journal is not None and len(self.journal) < JOURNAL_MAX:
                self.journal.append(entry)

    def journal_read(self) -> list[dict]:
        with self.lock:
            return list(self.journal or [])

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
        """Count a call against the token's quota for the method on the emulator's today."""
        key = (self.today(), token, method)  # a new day starts every quota afresh
        with self.lock:
            self.daily[key] += 1
            within = self.daily[key] <= self.daily_limits.get(method, 10**9)
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
