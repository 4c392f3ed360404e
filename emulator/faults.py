"""Faults the emulator injects on demand: per method or at a rate, optionally a number of times.

Spec (``--faults`` and ``POST /_emulator/faults {"spec": ...}``): comma-separated
``METHOD:KIND[@RATE][*COUNT]``.

- METHOD: an API method (``wall.get``, ``execute``, ``group.getInfo``) or ``*`` for any request.
- KIND: an error code of that method's API (``15``, ``29``, ``102``), ``http500``/``http502``/
  ``http503``, ``slow`` (sleeps ``slow_seconds``, past the client timeout) or ``slowN.N``
  (sleeps N.N seconds), ``truncated`` (a 200 answer with half the JSON).
- RATE: the chance per request, 0..1 (default 1); COUNT: at most that many times.

An error fault on a method called inside ``execute`` fails just that call (``false`` in the
response and an entry in ``execute_errors``); every other fault affects the whole HTTP request.

Examples: ``wall.get:15@0.2``, ``execute:slow*1``, ``*:http502@0.05``, ``group.getInfo:102``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

_ITEM = re.compile(
    r"^(?P<method>\*|[A-Za-z]+\.[A-Za-z]+|execute):(?P<kind>\d+|http5\d\d|slow(?:\d+(?:\.\d+)?)?"
    r"|truncated)(?:@(?P<rate>[0-9.]+))?(?:\*(?P<count>\d+))?$"
)


@dataclass
class Fault:
    """One injected fault."""

    method: str
    kind: str  # "error", "http", "slow", "truncated"
    code: int = 0
    seconds: float = 0.0
    rate: float = 1.0
    remaining: int | None = None
    fired: int = field(default=0)

    def matches(self, method: str) -> bool:
        return self.method in ("*", method)

    def fire(self, rng: random.Random) -> bool:
        """Decide whether this fault strikes now (and count it if so)."""
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.rate < 1.0 and rng.random() >= self.rate:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        self.fired += 1
        return True

    def describe(self) -> dict:
        return {"method": self.method, "kind": self.kind, "code": self.code,
                "seconds": self.seconds, "rate": self.rate, "remaining": self.remaining,
                "fired": self.fired}


def parse_spec(spec: str, *, slow_seconds: float) -> list[Fault]:
    """Parse a fault spec; raise ValueError naming the first bad item."""
    faults = []
    for item in filter(None, (part.strip() for part in (spec or "").split(","))):
        match = _ITEM.match(item)
        if not match:
            raise ValueError(f"bad fault: {item!r}")
        kind_text = match.group("kind")
        fault = Fault(method=match.group("method"), kind="error")
        if kind_text.isdigit():
            fault.code = int(kind_text)
        elif kind_text.startswith("http"):
            fault.kind, fault.code = "http", int(kind_text[4:])
        elif kind_text.startswith("slow"):
            fault.kind, fault.seconds = "slow", float(kind_text[4:] or slow_seconds)
        else:
            fault.kind = "truncated"
        if match.group("rate"):
            fault.rate = float(match.group("rate"))
        if match.group("count"):
            fault.remaining = int(match.group("count"))
        faults.append(fault)
    return faults
