"""Which reports' values analytics count: approved only by default, wider when asked.

A draft and a returned report must not move a ranking, a summary or their files under the
default; under «accepted» and «all» they count as the choice says, and every answer says what
it counted and how many values of the period still await approval.
"""

import datetime as dt
import io
import json

import openpyxl
import pytest

from institutions.models import Community
from metrics.models import MetricValue
from reports.exports.summary import summary_sheet
from reports.exports.xlsx import workbook_bytes
from reports.models import PublishedRankingVersion, Report, ReportState
from reports.rankings import RankingParams, ranking_compute
from reports.rankings.publishing import ranking_publish
from reports.summaries.selectors import territory_summary
from tests.factories import CommunityFactory, InstitutionFactory

MONTH = dt.date(2026, 5, 1)
PERIOD = dict(date_from=MONTH, date_to=dt.date(2026, 5, 31))


@pytest.fixture
def reviewed(territory_a):
    """Four institutions of territory A with visits 100/200/300/400 under reports approved,
    accepted, returned and draft."""
    states = [ReportState.APPROVED, ReportState.ACCEPTED, ReportState.RETURNED,
              ReportState.DRAFT]
    out = {}
    for n, state in enumerate(states, start=1):
        institution = InstitutionFactory(territory=territory_a, short_name=f"Учреждение {state}")
        community = CommunityFactory(institution=institution)
        Report.objects.create(institution=institution, month=MONTH, state=state)
        MetricValue.objects.create(community=community, month=MONTH, indicator="visits",
                                   value=100 * n)
        out[str(state)] = community
    return out


def _visits(counting: str | None) -> dict[int, int]:
    extra = {"counting": counting} if counting else {}
    ranking = ranking_compute(communities=Community.objects.all(),
                              params=RankingParams(metric="t1_visits", **PERIOD, **extra))
    return {row.community_id: row.value for row in ranking.rows}


def test_returned_and_draft_values_change_no_ranking_by_default(reviewed):
    assert _visits(None) == {reviewed["approved"].pk: 100}
    assert _visits("accepted") == {reviewed["approved"].pk: 100, reviewed["accepted"].pk: 200}
    assert _visits("all") == {reviewed[s].pk: 100 * n for n, s in enumerate(
        ["approved", "accepted", "returned", "draft"], start=1)}


def test_the_region_setting_widens_the_default(reviewed, settings):
    settings.ANALYTICS_REPORT_STATES = "accepted"
    assert set(_visits(None)) == {reviewed["approved"].pk, reviewed["accepted"].pk}


def test_a_ranking_says_what_it_counted_and_what_awaits_approval(reviewed):
    ranking = ranking_compute(communities=Community.objects.all(),
                              params=RankingParams(metric="t1_visits", **PERIOD))
    assert ranking.pending == 3
    assert "только из утверждённых отчётов" in ranking.counting_text
    assert "Ждут утверждения: 3 значения за период (в расчёт не вошли)" in ranking.counting_text


def _summary_visits(user, territory, counting):
    summary = territory_summary(user=user, territory=territory, counting=counting, **PERIOD)
    return summary, summary.totals["visits"]


def test_returned_and_draft_values_change_no_summary_or_its_file(regional, territory_a,
                                                                 reviewed):
    summary, total = _summary_visits(regional, territory_a, None)
    assert total == 100 and summary.pending == 3
    rows = list(openpyxl.load_workbook(io.BytesIO(workbook_bytes([summary_sheet(summary)])))
                .worksheets[0].iter_rows(values_only=True))
    header = next(r for r in rows if r[0] == "Учреждение")
    total_row = next(r for r in rows if r[0] == "ВСЕГО по территории")
    assert total_row[header.index("Посещения")] == 100
    assert any("только из утверждённых отчётов" in str(r[0]) for r in rows[:6])
    visits = header.index("Посещения")
    cells = {r[0]: r[visits] for r in rows if str(r[0]).startswith("Учреждение ")
             and not str(r[1]).startswith("Итого")}
    assert cells == {"Учреждение approved": 100, "Учреждение accepted": "не утверждён",
                     "Учреждение returned": "не сдан", "Учреждение draft": "не сдан"}
    assert _summary_visits(regional, territory_a, "accepted")[1] == 300
    assert _summary_visits(regional, territory_a, "all")[1] == 1000


def test_the_pages_and_the_api_take_the_choice(login, api_as, regional, territory_a, reviewed):
    query = f"territory={territory_a.pk}&period=month&year=2026&number=5"
    page = login(regional).get(f"/summaries/?{query}").content.decode()
    assert "только из утверждённых отчётов" in page and "Ждут утверждения: 3 значения" in page
    body = api_as(regional).get(f"/api/v1/summaries/?{query}&states=all").json()
    assert body["totals"]["visits"] == 1000
    assert body["counting"]["choice"] == "all" and body["counting"]["pending"] == 3
    ranking = api_as(regional).get(
        "/api/v1/rankings/?metric=t1_visits&period=month&year=2026&number=5&states=accepted")
    head = json.loads(b"".join(ranking.streaming_content))
    assert head["counting"]["states"] == ["accepted", "approved"]
    assert len(head["results"]) == 2
    wrong = api_as(regional).get(f"/api/v1/summaries/?{query}&states=everything")
    assert wrong.status_code == 400


def test_a_published_ranking_freezes_the_states_it_counted(regional, reviewed):
    version = ranking_publish(user=regional, params=RankingParams(metric="t1_visits", **PERIOD),
                              title="Посещения за май", slug="visits-may",
                              methodology="Сумма посещений.")
    version = PublishedRankingVersion.objects.get(pk=version.pk)
    assert version.counted_states == ["approved"] and version.pending == 3
    assert [r["value"] for r in version.rows] == [100]
    assert any("только из утверждённых отчётов" in line for line in version.params["description"])
    wider = ranking_publish(
        user=regional, params=RankingParams(metric="t1_visits", counting="all", **PERIOD),
        title="Посещения за май", slug="visits-may", methodology="Сумма посещений.")
    assert wider.counted_states == list(ReportState.values) and len(wider.rows) == 4
