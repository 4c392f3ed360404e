"""A requests transport adapter that notes when an answer's headers arrived.

The server clocked the request before it sent the headers, so the limiter can free a slot one
window after the headers arrived rather than after the whole body was read and decoded.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter


class TimedAdapter(HTTPAdapter):
    """Records ``headers_at`` (time.monotonic) of the last answer it received."""

    def __init__(self, *, timeout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeout = timeout
        self.headers_at: float | None = None

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        self.headers_at = None
        response = super().send(request, **kwargs)
        self.headers_at = time.monotonic()
        return response

    def answer_age(self) -> float:
        """Seconds since the last answer's headers arrived (0 when none did)."""
        return 0.0 if self.headers_at is None else max(0.0, time.monotonic() - self.headers_at)
