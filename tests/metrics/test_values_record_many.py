"""``api_values_record_many`` (the collectors' bulk write) against ``api_values_record`` (one
community at a time): the same input must leave the same rows, provenance and history.

Each path runs on the same starting state inside a savepoint that is rolled back afterwards, so
the two outcomes are compared field by field (times as "moved or not", ids left out).
"""

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import transaction
from django.utils import timezone

from metrics.choices import Indicator, ValueSource
from metrics.models import MetricValue
from metrics.services import api_values_record, api_values_record_many
from reports.models import Report, ReportState
from tests.factories import CommunityFactory, InstitutionFactory
from tests.reports.helpers_table1 import report_in

MARCH = dt.date(2026, 3, 1)
VK = ValueSource.VK_API
MANUAL = ValueSource.MANUAL
P, L, R, C, V = (Indicator.POSTS, Indicator.LIKES, Indicator.REPOSTS, Indicator.COMMENTS,
                 Indicator.VIEWS)


class _Undo(Exception):
    """Rolls a path's savepoint back once its outcome is read."""


def _value(community, indicator, value, source, api_value=None, **extra) -> None:
    MetricValue.objects.create(community=community, month=MARCH, indicator=indicator,
                               value=value, source=source, api_value=api_value,
                               api_source=VK if api_value is not None else "", **extra)


@pytest.fixture
def month(community_a, community_b, institution_a, institution_b, territory_a, regional):
    """A month in every state a collector meets, and the figures the networks report for it."""
    sibling = CommunityFactory(institution=institution_a)  # the same open report as A's
    approved = CommunityFactory(institution=InstitutionFactory(territory=territory_a))
    unreported = CommunityFactory(institution=InstitutionFactory(territory=territory_a))
    report_in(institution_a, MARCH, ReportState.DRAFT)
    report_in(institution_b, MARCH, ReportState.SUBMITTED)
    report_in(approved.institution, MARCH, ReportState.APPROVED)
    _value(community_a, P, 5, VK, 5, is_confirmed=True)  # the API's figure moves on
    _value(community_a, L, 10, VK, 10)  # the same figure again: nothing to do
    _value(community_a, R, 2, MANUAL, updated_by=regional)  # a person's figure stays
    _value(sibling, P, 1, VK, 1)
    _value(community_b, P, 3, VK, 3)  # submitted: the API figure is kept apart
    _value(community_b, L, 7, MANUAL, 6)
    _value(approved, P, 9, VK, 9)  # approved: untouched
    figures = {
        community_a.pk: {P: 7, L: 10, R: 4, C: 1},
        sibling.pk: {P: 2},
        community_b.pk: {P: 4, L: 8, V: 100},
        approved.pk: {P: 10, V: 5},
        unreported.pk: {P: 1, L: 2},
    }
    return {"figures": figures, "a": community_a, "b": community_b, "sibling": sibling,
            "approved": approved, "unreported": unreported}


def _outcome(write: Callable[[], int]) -> dict:
    """What ``write`` leaves (rows, history, report versions), then undone."""
    outcome: dict = {}
    with pytest.raises(_Undo), transaction.atomic():
        since = timezone.now()
        outcome["changed"] = write()
        outcome["rows"] = {
            (r.community_id, r.indicator): (
                r.value, r.source, r.api_value, r.api_source, r.is_confirmed, r.updated_by_id,
                r.updated_at > since, r.api_collected_at is not None and r.api_collected_at > since)
            for r in MetricValue.objects.filter(month=MARCH)}
        outcome["history"] = sorted(
            (h.community_id, h.indicator, h.history_type, h.value, h.source, h.api_value,
             h.api_source, h.is_confirmed, h.history_change_reason, h.history_user_id,
             h.updated_at > since)
            for h in MetricValue.history.filter(history_date__gt=since))
        outcome["versions"] = dict(Report.objects.values_list("institution_id", "version"))
        raise _Undo
    return outcome


def _one_by_one(figures: dict) -> int:
    return sum(api_values_record(community_id=c, month=MARCH, values=v, source=VK)
               for c, v in figures.items())


def _bulk(figures: dict) -> int:
    return api_values_record_many(month=MARCH, values=figures, source=VK)


def test_bulk_and_one_by_one_leave_the_same_rows_and_history(month):
    figures = month["figures"]
    before = dict(Report.objects.values_list("institution_id", "version"))
    one, bulk = _outcome(lambda: _one_by_one(figures)), _outcome(lambda: _bulk(figures))
    assert bulk["changed"] == one["changed"] == 9
    assert bulk["rows"] == one["rows"]
    assert bulk["history"] == one["history"]
    # The open report goes stale either way: one by one it moves once per community whose
    # effective figure changed, in bulk once per write.
    opened = month["a"].institution_id
    assert one["versions"][opened] > before[opened] and bulk["versions"][opened] > before[opened]
    assert {k: v for k, v in bulk["versions"].items() if k != opened} == {
        k: v for k, v in one["versions"].items() if k != opened} == {
        k: v for k, v in before.items() if k != opened}


def test_the_shared_outcome_is_the_rules(month):
    a, b, approved = month["a"].pk, month["b"].pk, month["approved"].pk
    rows = _outcome(lambda: _bulk(month["figures"]))["rows"]
    # (value, source, api_value, api_source, confirmed, updated_by, touched, collected now)
    assert rows[(a, P)][:5] == (7, VK, 7, VK, False)  # the new figure, to be confirmed again
    assert rows[(a, L)][6:] == (False, False)  # the same figure: untouched
    assert rows[(a, R)][:4] == (2, MANUAL, 4, VK)  # the person's figure stays effective
    assert rows[(a, C)][:4] == (1, VK, 1, VK)
    assert rows[(b, P)][:4] == (3, VK, 4, VK)  # submitted: kept apart until reopened
    assert rows[(b, V)][:4] == (None, VK, 100, VK)
    assert rows[(approved, P)] [:4] == (9, VK, 9, VK) and (approved, V) not in rows
    assert rows[(month["unreported"].pk, L)][:4] == (2, VK, 2, VK)


@pytest.mark.parametrize("write", [_one_by_one, _bulk], ids=["one_by_one", "bulk"])
def test_the_same_figures_twice_change_nothing_the_second_time(month, write):
    figures = month["figures"]

    def twice() -> int:
        write(figures)
        return write(figures)

    outcome = _outcome(twice)
    assert outcome["changed"] == 0
    assert outcome["rows"] == _outcome(lambda: write(figures))["rows"]


def test_a_batch_with_only_a_closed_month_writes_nothing(month):
    outcome = _outcome(lambda: _bulk({month["approved"].pk: {P: 11}}))
    assert outcome["changed"] == 0 and outcome["history"] == []
