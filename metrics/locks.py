"""Whether a community's month may still change: a fact metrics owns, the workflow supplies.

Metrics stores figures; the review workflow above it (``reports``) decides whether a month is
open, closed to collectors, or locked. The workflow registers its answer at start-up
(``month_locks_provide``), so this layer never imports the one above it. With no provider (metrics
alone) every month is open. Providers lock the rows they read, so a state change and a write of
figures never cross.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.dispatch import Signal


@dataclass(frozen=True)
class MonthLock:
    """How one community's month stands for writers of figures."""

    locked: bool  # approved: nothing may change
    open: bool  # a collector's figure may become the effective value
    label: str  # the report's state in words, for the history of a change
    tracked: bool  # a report exists whose version follows its figures


NO_REPORT = MonthLock(locked=False, open=True, label="нет отчёта", tracked=False)

MonthKey = tuple[int, dt.date]
Provider = Callable[[set[int], set[dt.date]], dict[MonthKey, MonthLock]]
_provider: list[Provider] = []

# Sent after a write changed effective figures of tracked months: ``community_ids``, ``month``.
effective_values_changed = Signal()


def month_locks_provide(provider: Provider) -> None:
    """Register the workflow's answer (called once from its AppConfig.ready)."""
    _provider[:] = [provider]


def month_locks(*, community_ids: Iterable[int], months: Iterable[dt.date]) -> dict[MonthKey,
                                                                                   MonthLock]:
    """``{(community_id, month): MonthLock}``; a key that is absent has ``NO_REPORT``."""
    community_ids, months = set(community_ids), set(months)
    if not community_ids or not months or not _provider:
        return {}
    return _provider[0](community_ids, months)
