"""The validation table: what blocks saving and what only needs a comment."""

import datetime as dt

import pytest

from reports.workflow.validation import (
    FigureError,
    Thresholds,
    hard_errors,
    parse_figure,
    warnings_for,
)
from tests.reports.helpers_table1 import MARCH, NORMAL, NORMAL_PREV

TODAY = dt.date(2026, 4, 10)
LIMITS = Thresholds(jump_share=1.0, members_drop_share=0.1)


@pytest.mark.parametrize(("raw", "expected"), [
    (None, None), ("", None), ("  ", None), ("0", 0), ("12 345", 12345), ("12\u00a0345", 12345),
    (42, 42), (42.0, 42), ("7.0", 7), ("1,00", 1),
])
def test_figures_people_type(raw, expected):
    assert parse_figure(raw) == expected


@pytest.mark.parametrize(("raw", "message"), [
    ("-1", "отрицательное"), (-3, "отрицательное"), ("2.5", "не целое"), (2.5, "не целое"),
    ("abc", "не число"), ("=SUM(A1)", "не число"), (True, "целое"), ("1e3", "не число"),
    ("99999999999999999", "слишком большое"),
])
def test_figures_that_are_refused(raw, message):
    with pytest.raises(FigureError, match=message):
        parse_figure(raw)


HARD_CASES = [
    ("a normal month", MARCH, NORMAL, []),
    ("unique visitors equal to visits", MARCH, {**NORMAL, "unique_visitors": 500}, []),
    ("unique visitors above visits", MARCH, {**NORMAL, "unique_visitors": 501},
     ["unique_above_visits"]),
    ("only unique visitors reported", MARCH, {"unique_visitors": 501}, []),
    ("the current month", dt.date(2026, 4, 1), NORMAL, []),
    ("a future month", dt.date(2026, 5, 1), NORMAL, ["future_month"]),
]


@pytest.mark.parametrize(("case", "month", "figures", "codes"), HARD_CASES,
                         ids=[c[0] for c in HARD_CASES])
def test_hard_errors(case, month, figures, codes):
    problems = hard_errors(community_id=1, month=month, figures=figures, today=TODAY)
    assert [p.code for p in problems] == codes


WARNING_CASES = [
    ("an ordinary month", NORMAL, NORMAL_PREV, []),
    ("nothing reported", {}, NORMAL_PREV, []),
    ("no previous month", NORMAL, {}, []),
    ("all zeros", dict.fromkeys(NORMAL, 0), NORMAL_PREV, ["all_zeros"]),
    ("identical to the previous month", NORMAL_PREV, NORMAL_PREV, ["same_as_previous"]),
    ("visits doubled exactly (at the threshold)", {**NORMAL, "visits": 960}, NORMAL_PREV, []),
    ("visits more than doubled", {**NORMAL, "visits": 961}, NORMAL_PREV, ["jump"]),
    ("wall views halved exactly", {**NORMAL, "wall_views": 1450}, NORMAL_PREV, []),
    ("wall views fell to a tenth", {**NORMAL, "wall_views": 290}, NORMAL_PREV, ["jump"]),
    ("visits fell to zero", {**NORMAL, "visits": 0, "unique_visitors": 0}, NORMAL_PREV,
     ["jump", "jump"]),
    ("members fell by 10%", {**NORMAL, "members": 891}, NORMAL_PREV, []),
    ("members fell by more than 10%", {**NORMAL, "members": 890}, NORMAL_PREV,
     ["members_drop"]),
    ("members tripled", {**NORMAL, "members": 2971}, NORMAL_PREV, ["jump"]),
    ("previous month zero", {**NORMAL, "feedback": 50}, {**NORMAL_PREV, "feedback": 0}, []),
]


@pytest.mark.parametrize(("case", "figures", "previous", "codes"), WARNING_CASES,
                         ids=[c[0] for c in WARNING_CASES])
def test_warnings(case, figures, previous, codes):
    problems = warnings_for(community_id=1, month=MARCH, figures=figures, previous=previous,
                            thresholds=LIMITS)
    assert [p.code for p in problems] == codes
    assert all(p.message for p in problems)


def test_thresholds_are_configurable():
    figures = {**NORMAL, "visits": 700}  # +46% against 480
    strict = Thresholds(jump_share=0.3, members_drop_share=0.01)
    assert [p.code for p in warnings_for(community_id=1, month=MARCH, figures=figures,
                                         previous=NORMAL_PREV, thresholds=strict)] == ["jump"]
    assert warnings_for(community_id=1, month=MARCH, figures=figures, previous=NORMAL_PREV,
                        thresholds=LIMITS) == []


def test_warning_thresholds_come_from_settings(settings, community_a, institution_a):
    from reports.workflow.selectors import report_warnings
    from tests.reports.helpers_table1 import FEBRUARY, fill

    fill(community_a, FEBRUARY, NORMAL_PREV)
    fill(community_a, MARCH, {**NORMAL, "visits": 700})
    assert report_warnings(institution=institution_a, month=MARCH) == []
    settings.REPORT_WARN_JUMP_SHARE = 0.3
    assert [p.code for p in report_warnings(institution=institution_a, month=MARCH)] == ["jump"]
