"""The review workflow: the transition × persona matrix and what each transition leaves behind."""

import pytest

from institutions.choices import Role
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from reports.models import Report, ReportAction, ReportComment, ReportState
from reports.workflow.services import ACTIONS, report_approve, report_return, report_submit
from tests.factories import ProfileFactory
from tests.reports.helpers_table1 import FEBRUARY, MARCH, NORMAL_PREV, fill, report_in

S = ReportState
PERSONAS = ["editor_a", "municipal_a", "municipal_b", "regional", "viewer", "api_client_user",
            "outsider"]

# (persona, action, from state) -> to state, for a municipal institution of territory A.
ALLOWED = {
    ("editor_a", "submit", S.DRAFT): S.SUBMITTED,
    ("editor_a", "submit", S.RETURNED): S.SUBMITTED,
    ("regional", "submit", S.DRAFT): S.SUBMITTED,
    ("regional", "submit", S.RETURNED): S.SUBMITTED,
    ("municipal_a", "accept", S.SUBMITTED): S.ACCEPTED,
    ("regional", "approve", S.ACCEPTED): S.APPROVED,
    ("municipal_a", "return", S.SUBMITTED): S.RETURNED,
    ("regional", "return", S.SUBMITTED): S.RETURNED,
    ("regional", "return", S.ACCEPTED): S.RETURNED,
    ("regional", "reopen", S.APPROVED): S.RETURNED,
}
# Who holds the action at all (otherwise NotAllowed, whatever the state).
ACTORS = {
    "submit": {"editor_a", "regional"}, "accept": {"municipal_a"}, "approve": {"regional"},
    "return": {"municipal_a", "regional"}, "reopen": {"regional"},
}
CANNOT_SEE_A = {"municipal_b", "outsider"}


@pytest.fixture
def municipal_b(territory_b):
    return ProfileFactory(user__username="municipal_b", role=Role.MUNICIPAL,
                          territories=[territory_b]).user


@pytest.fixture
def persona(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("action", list(ACTORS))
@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_transition_matrix(persona, action, state, community_a, institution_a, request):
    fill(community_a, FEBRUARY, NORMAL_PREV)
    fill(community_a, MARCH)
    report = report_in(institution_a, MARCH, state)
    name = persona.username if persona.username != "methodist" else "regional"
    name = {"api_robot": "api_client_user"}.get(name, name)
    call = ACTIONS[action]
    expected = ALLOWED.get((name, action, state))
    if expected:
        moved = call(user=persona, report_id=report.pk, comment="Причина указана")
        assert moved.state == expected
        assert Report.objects.get(pk=report.pk).state == expected
        return
    error = NotFound if name in CANNOT_SEE_A else (
        NotAllowed if name not in ACTORS[action] else Conflict)
    with pytest.raises(error):
        call(user=persona, report_id=report.pk, comment="Причина указана")
    assert Report.objects.get(pk=report.pk).state == state


def test_regional_institution_skips_the_municipal_step(regional_institution, municipal_a,
                                                       regional):
    from tests.factories import CommunityFactory

    community = CommunityFactory(institution=regional_institution)
    fill(community, FEBRUARY, NORMAL_PREV)
    fill(community, MARCH)
    report = report_in(regional_institution, MARCH, S.SUBMITTED)
    with pytest.raises(NotAllowed, match="подведомственно региону"):
        ACTIONS["accept"](user=municipal_a, report_id=report.pk)
    with pytest.raises(NotAllowed):
        report_return(user=municipal_a, report_id=report.pk, comment="нет")
    approved = report_approve(user=regional, report_id=report.pk)
    assert approved.state == S.APPROVED
    assert approved.approved_by == regional


def test_the_full_journey_leaves_a_trail(community_a, institution_a, editor_a, municipal_a,
                                         regional):
    fill(community_a, FEBRUARY, NORMAL_PREV)
    fill(community_a, MARCH)
    report = report_in(institution_a, MARCH, S.DRAFT)
    report_submit(user=editor_a, report_id=report.pk)
    ACTIONS["accept"](user=municipal_a, report_id=report.pk, comment="Проверено")
    approved = report_approve(user=regional, report_id=report.pk)
    assert (approved.submitted_by, approved.accepted_by, approved.approved_by) == (
        editor_a, municipal_a, regional)
    trail = list(ReportComment.objects.filter(report=report).values_list(
        "action", "from_state", "to_state", "author__username"))
    assert trail == [
        ("submit", "draft", "submitted", "editor_a"),
        ("accept", "submitted", "accepted", "municipal_a"),
        ("approve", "accepted", "approved", "methodist"),
    ]
    history = list(report.history.order_by("history_date").values_list(
        "state", "history_user__username"))
    assert history[-3:] == [("submitted", "editor_a"), ("accepted", "municipal_a"),
                            ("approved", "methodist")]


@pytest.mark.parametrize("action", ["return", "reopen"])
def test_return_and_reopen_need_a_reason(action, community_a, institution_a, regional):
    state = S.SUBMITTED if action == "return" else S.APPROVED
    report = report_in(institution_a, MARCH, state)
    with pytest.raises(ValidationFailed, match="Укажите причину"):
        ACTIONS[action](user=regional, report_id=report.pk, comment="   ")
    assert Report.objects.get(pk=report.pk).state == state
    assert not ReportComment.objects.filter(report=report).exists()


def test_reopen_unlocks_an_approved_report_with_the_reason_kept(institution_a, regional):
    report = report_in(institution_a, MARCH, S.APPROVED, approved_by=regional)
    reopened = ACTIONS["reopen"](user=regional, report_id=report.pk,
                                 comment="Учреждение прислало исправленные данные")
    assert reopened.state == S.RETURNED and reopened.approved_by is None
    note = ReportComment.objects.get(report=report, action=ReportAction.REOPEN)
    assert note.text == "Учреждение прислало исправленные данные"


def test_submit_with_warnings_needs_a_comment_which_reviewers_see(community_a, institution_a,
                                                                 editor_a):
    fill(community_a, FEBRUARY, NORMAL_PREV)
    fill(community_a, MARCH, {**NORMAL_PREV, "visits": 5000})  # a tenfold jump
    report = report_in(institution_a, MARCH, S.DRAFT)
    with pytest.raises(ValidationFailed, match="Посещения") as caught:
        report_submit(user=editor_a, report_id=report.pk)
    assert caught.value.details[0]["code"] == "jump"
    assert Report.objects.get(pk=report.pk).state == S.DRAFT
    report_submit(user=editor_a, report_id=report.pk, comment="Прошёл областной фестиваль")
    note = ReportComment.objects.get(report=report, action=ReportAction.SUBMIT)
    assert note.text == "Прошёл областной фестиваль"
    assert [w["code"] for w in note.warnings] == ["jump"]


def test_an_empty_report_cannot_be_submitted(community_a, institution_a, editor_a):
    report = report_in(institution_a, MARCH, S.DRAFT)
    with pytest.raises(ValidationFailed, match="нет ни одного значения"):
        report_submit(user=editor_a, report_id=report.pk)


def test_a_stale_version_cannot_move_the_report(community_a, institution_a, editor_a,
                                                regional):
    fill(community_a, FEBRUARY, NORMAL_PREV)
    fill(community_a, MARCH)
    report = report_in(institution_a, MARCH, S.DRAFT)
    seen = report.version
    report_submit(user=editor_a, report_id=report.pk, version=seen)
    with pytest.raises(Conflict, match="обновите страницу"):
        report_return(user=regional, report_id=report.pk, comment="Нет", version=seen)
    assert Report.objects.get(pk=report.pk).state == S.SUBMITTED
