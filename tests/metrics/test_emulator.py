"""The emulator answers like VK and OK: shapes, limits, execute semantics, signatures, faults."""

import datetime as dt
import gc
import hashlib
import weakref

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

from emulator import data as emu_data
from emulator import vkscript
from metrics.ok.client import signature
from tests.metrics.conftest import SEED, ok_ids, vk_ids


def vk(emulator, method: str, token: str = "vkemu-usr-emu", **params) -> dict:
    response = requests.post(emulator.vk_url + method,
                             data={"access_token": token, "v": "5.199", **params}, timeout=10)
    return response.json()


def ok(emulator, method: str, *, secret: str = "emulator-secret", token: str = "okemu-usr-e",
       application_key_override: str = "", **params) -> dict:
    values = {**params, "application_key": application_key_override or "CBAEMULATOR",
              "method": method, "format": "json"}
    values["sig"] = signature(values, access_token=token, secret_key=secret)
    values["access_token"] = token
    return requests.post(emulator.ok_url, data=values, timeout=10).json()


def test_groups_get_by_id_has_vk_shape_and_deterministic_data(emulator):
    gid = vk_ids("active", 1)[0]
    answer = vk(emulator, "groups.getById", group_ids=str(gid), fields="members_count")
    group = answer["response"]["groups"][0]
    assert group["id"] == gid and group["is_closed"] == 0
    today = dt.datetime.now(dt.UTC).date()
    assert group["members_count"] == emu_data.members_on(SEED, "vk", gid, today)


def test_more_than_500_ids_is_vk_error_100(emulator):
    answer = vk(emulator, "groups.getById", group_ids=",".join(map(str, range(1, 502))))
    assert answer["error"]["error_code"] == 100
    assert {"key": "method", "value": "groups.getById"} in answer["error"]["request_params"]


def test_an_unknown_token_is_vk_error_5(emulator):
    assert vk(emulator, "groups.getById", token="nope", group_ids="1")["error"][
        "error_code"] == 5


def test_execute_runs_up_to_25_calls_and_reports_failures_in_place(emulator):
    closed = vk_ids("closed", 1)[0]
    active = vk_ids("active", 1)[0]
    code = (f'return [API.wall.get({{"owner_id": -{closed}, "count": 1}}),'
            f'API.wall.get({{"owner_id": -{active}, "count": 1}})];')
    answer = vk(emulator, "execute", code=code)
    assert answer["response"][0] is False and answer["response"][1]["count"] >= 0
    assert answer["execute_errors"] == [{
        "method": "wall.get", "error_code": 15,
        "error_msg": "Access denied: this wall available only for community members"}]
    too_many = "return [" + ",".join(["API.utils.resolveScreenName({\"screen_name\": \"a\"})"]
                                     * 26) + "];"
    assert vk(emulator, "execute", code=too_many)["error"]["error_code"] == 13


def test_a_burst_beyond_3_a_second_is_vk_error_6(emulator):
    codes = [vk(emulator, "utils.resolveScreenName", token="vkemu-usr-burst",
                screen_name="club1").get("error", {}).get("error_code") for _ in range(8)]
    assert codes[:3] == [None, None, None] and 6 in codes[3:]
    assert emulator.stats()["limit_errors"] >= 1


def test_a_community_token_may_make_20_requests_a_second(emulator):
    codes = [vk(emulator, "groups.getById", token="vkemu-grp-5-key").get("error")
             for _ in range(10)]
    assert codes == [None] * 10


def test_daily_limits_are_vk_error_29(emulator):
    emulator.faults(daily_limits={"wall.get": 1})
    gid = vk_ids("active", 1)[0]
    assert "response" in vk(emulator, "wall.get", owner_id=f"-{gid}")
    assert vk(emulator, "wall.get", owner_id=f"-{gid}")["error"]["error_code"] == 29


def test_stats_need_an_admin_token(emulator):
    gid = vk_ids("active", 1)[0]
    params = {"group_id": gid, "timestamp_from": 1767225600, "timestamp_to": 1769904000,
              "interval": "month"}
    assert vk(emulator, "stats.get", **params)["error"]["error_code"] == 7
    answer = vk(emulator, "stats.get", token=f"vkemu-adm-{gid}-x", **params)
    assert set(answer["response"][0]) >= {"visitors", "reach", "activity"}


# --- what VK refuses (its schema: token types, parameters, errors.json) ---------------------------
def test_execute_with_a_service_token_is_error_28_as_vk_answers(emulator):
    answer = vk(emulator, "execute", token="vkemu-svc-emu",
                code='return API.utils.resolveScreenName({"screen_name": "club1"});')
    assert answer["error"]["error_code"] == 28
    assert answer["error"]["error_msg"] == (
        "Application authorization failed: method is unavailable with service token.")
    # the same token reads walls and communities one call a request
    gid = vk_ids("active", 1)[0]
    assert "response" in vk(emulator, "wall.get", token="vkemu-svc-emu", owner_id=f"-{gid}")
    assert "response" in vk(emulator, "groups.getById", token="vkemu-svc-emu", group_ids=gid)


def test_stats_get_with_a_community_token_is_error_27(emulator):
    gid = vk_ids("active", 1)[0]
    answer = vk(emulator, "stats.get", token=f"vkemu-grp-{gid}-key", group_id=gid,
                interval="month")
    assert answer["error"]["error_code"] == 27
    assert answer["error"]["error_msg"].startswith("Group authorization failed")


def test_a_call_inside_execute_is_held_to_its_own_token_types(emulator):
    gid = vk_ids("active", 1)[0]
    code = (f'return [API.groups.getById({{"group_ids": {gid}}}),'
            f'API.wall.get({{"owner_id": -{gid}, "count": 1}})];')
    answer = vk(emulator, "execute", token=f"vkemu-grp-{gid}-key", code=code)
    assert answer["response"][0]["groups"][0]["id"] == gid and answer["response"][1] is False
    assert [e["error_code"] for e in answer["execute_errors"]] == [27]


def test_stats_of_a_community_the_user_does_not_administer_are_7_and_15_if_closed(emulator):
    active, closed = vk_ids("active", 1)[0], vk_ids("closed", 1)[0]
    assert vk(emulator, "stats.get", group_id=active)["error"]["error_code"] == 7
    assert vk(emulator, "stats.get", group_id=closed)["error"]["error_code"] == 15
    mine = vk(emulator, "stats.get", token=f"vkemu-adm-{closed}-x", group_id=closed,
              interval="month")
    assert len(mine["response"]) == 1


def moscow(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.timezone(dt.timedelta(hours=3))).timestamp())


def test_stats_get_answers_whole_intervals_counted_in_moscow_time(emulator):
    gid = vk_ids("active", 1)[0]
    token = f"vkemu-adm-{gid}-x"
    answer = vk(emulator, "stats.get", token=token, group_id=gid, interval="month",
                intervals_count=1, timestamp_from=moscow(2026, 2, 1, 12),
                timestamp_to=moscow(2026, 2, 28, 12))["response"]
    assert [(p["period_from"], p["period_to"]) for p in answer] == [
        (moscow(2026, 2, 1), moscow(2026, 3, 1))]
    three = vk(emulator, "stats.get", token=token, group_id=gid, interval="month",
               intervals_count=3, timestamp_to=moscow(2026, 3, 10))["response"]
    assert [p["period_from"] for p in three] == [moscow(2026, 3, 1), moscow(2026, 2, 1),
                                                 moscow(2026, 1, 1)]  # newest first
    days = vk(emulator, "stats.get", token=token, group_id=gid, interval="day",
              timestamp_from=moscow(2026, 2, 1), timestamp_to=moscow(2026, 2, 28, 23))["response"]
    assert len(days) == 28 and days[-1]["period_from"] == moscow(2026, 2, 1)
    # unique people of the month are the month's own, fewer than the days' sum
    assert answer[0]["visitors"]["visitors"] < sum(d["visitors"]["visitors"] for d in days)


@pytest.mark.parametrize(("method", "params", "detail"), [
    ("wall.get", {"owner_id": "-1", "count": "101"}, "count should be not more than 100"),
    ("wall.get", {"owner_id": "-1", "filter": "everything"}, "filter should be one of"),
    ("wall.get", {"owner_id": "-1", "offset": "-1"}, "offset should be not less than 0"),
    ("stats.get", {"group_id": "1", "interval": "quarter"}, "interval should be one of"),
    ("stats.get", {"group_id": "x"}, "group_id not integer"),
    ("utils.resolveScreenName", {}, "screen_name is undefined"),
])
def test_parameters_vk_refuses_are_error_100(emulator, method, params, detail):
    error = vk(emulator, method, **params)["error"]
    assert error["error_code"] == 100
    assert error["error_msg"].startswith(
        "One of the parameters specified was missing or invalid: " + detail)


def test_wall_posts_carry_the_fields_the_schema_requires(emulator):
    gid = vk_ids("active", 1)[0]
    post = vk(emulator, "wall.get", owner_id=f"-{gid}", count=1)["response"]["items"][0]
    assert {"can_like", "count", "user_likes"} <= set(post["likes"])
    assert "count" in post["reposts"] and post["post_type"] == "post"


def test_an_unknown_kind_of_emulator_token_is_error_5(emulator):
    assert vk(emulator, "utils.resolveScreenName", token="vkemu-xyz-1",
              screen_name="a")["error"]["error_code"] == 5


def test_ok_checks_the_signature_and_answers_in_its_shape(emulator):
    uid, gone = ok_ids("active", 1)[0], ok_ids("deleted", 1)[0]
    assert ok(emulator, "group.getInfo", uids=str(uid), secret="wrong")["error_code"] == 104
    groups = ok(emulator, "group.getInfo", uids=f"{uid},{gone}", fields="members_count")
    assert groups == [emu_data.ok_group(SEED, uid, dt.datetime.now(dt.UTC).date())]
    assert ok(emulator, "group.getInfo", token="bad", uids="1",
              fields="uid")["error_code"] == 102


def test_ok_refuses_an_unknown_application_and_a_signature_without_the_session_secret(emulator):
    values = {"application_key": "CBAEMULATOR", "method": "group.getInfo", "format": "json",
              "uids": "1", "fields": "uid"}
    # signed with the application secret alone, not md5(access_token + secret)
    pairs = "".join(f"{k}={values[k]}" for k in sorted(values))
    wrong = hashlib.md5((pairs + "emulator-secret").encode()).hexdigest()
    answer = requests.post(emulator.ok_url, data={**values, "sig": wrong,
                                                  "access_token": "okemu-usr-e"}, timeout=10)
    assert answer.json()["error_code"] == 104
    assert answer.json()["error_msg"].startswith("PARAM_SIGNATURE")
    unknown = ok(emulator, "group.getInfo", uids="1", fields="uid",
                 application_key_override="NOPE")
    assert unknown["error_code"] == 101


@pytest.mark.parametrize(("method", "params", "code", "name"), [
    ("group.getInfo", {"uids": "1"}, 100, "PARAM"),  # fields is required
    ("group.getStatTrends", {"gid": "1", "fields": "reach"}, 10, "PERMISSION_DENIED"),
    ("group.getStatTrends", {"gid": "1", "fields": "no_such_field"}, 100, "PARAM"),
    ("mediatopic.getTopics", {"gid": "1", "count": "0"}, 100, "PARAM"),
    ("group.getEverything", {}, 3, "METHOD"),
])
def test_ok_refuses_what_its_documentation_refuses(emulator, method, params, code, name):
    answer = ok(emulator, method, **params)
    assert answer["error_code"] == code and answer["error_msg"].startswith(name)


def test_faults_strike_at_the_rate_and_count_asked(emulator):
    emulator.faults("utils.resolveScreenName:http503*2")
    statuses = [requests.post(emulator.vk_url + "utils.resolveScreenName",
                              data={"access_token": f"vkemu-usr-{i}", "screen_name": "x"},
                              timeout=10).status_code for i in range(3)]
    assert statuses == [503, 503, 200]
    emulator.faults("utils.resolveScreenName:truncated*1", clear=True)
    with pytest.raises(ValueError):
        requests.post(emulator.vk_url + "utils.resolveScreenName",
                      data={"access_token": "vkemu-usr-t", "screen_name": "x"},
                      timeout=10).json()


def test_the_command_refuses_a_bad_fault_spec():
    with pytest.raises(CommandError, match="Неверное описание сбоев"):
        call_command("network_emulator", "--port", "1", "--faults", "wall.get:explode")


def test_vkscript_variables_and_projections_return_just_the_fields_asked(emulator):
    emulator.faults(today="2026-03-02")
    active, closed = vk_ids("active", 1)[0], vk_ids("closed", 1)[0]
    code = (f'var a = API.wall.get({{"owner_id": -{active}, "count": 3}});'
            f'var b = API.wall.get({{"owner_id": -{closed}, "count": 3}});'
            'return [{"count": a.count, "dates": a.items@.date, "likes": a.items@.likes@.count},'
            ' {"count": b.count, "dates": b.items@.date}];')
    answer = vk(emulator, "execute", code=code)
    full = emu_data.wall(SEED, active, dt.date(2026, 3, 2), offset=0, count=3)
    assert answer["response"][0] == {
        "count": full["count"], "dates": [p["date"] for p in full["items"]],
        "likes": [p["likes"]["count"] for p in full["items"]]}
    assert answer["response"][1] == {"count": None, "dates": None}  # a failed call is false
    assert [e["error_code"] for e in answer["execute_errors"]] == [15]
    assert emulator.stats()["inner_calls"] == {"wall.get": 2}
    assert vk(emulator, "execute", code="return a.b;")["error"]["error_code"] == 12
    assert vk(emulator, "execute", code="while (1) {}")["error"]["error_code"] == 12


@pytest.mark.parametrize(("today", "month"), [("2026-11-22", "2026-10-01"),
                                              ("2026-06-02", "2026-02-01")])
def test_wall_pages_is_what_paging_the_wall_down_to_the_month_takes(today, month):
    today, month = dt.date.fromisoformat(today), dt.date.fromisoformat(month)
    start = int(dt.datetime.combine(month, dt.time(), tzinfo=dt.UTC).timestamp())
    for gid in vk_ids("active", 40) + vk_ids("renamed", 5):
        pages, offset = 0, 0
        while True:
            page = emu_data.wall(SEED, gid, today, offset=offset, count=100)
            pages += 1
            regular = [p for p in page["items"] if not p.get("is_pinned")]
            offset += len(page["items"])
            if not (regular and regular[-1]["date"] >= start and offset < page["count"]):
                break
        assert emu_data.wall_pages(SEED, gid, today, month) == pages


def test_ok_group_feed_pages_by_anchor_in_its_shape(emulator):
    emulator.faults(today="2026-06-02")
    uid = ok_ids("active", 1)[0]
    fields = "media_topic.ID,media_topic.CREATED_MS,media_topic.LIKE_SUMMARY"
    first = ok(emulator, "mediatopic.getTopics", gid=str(uid), count="100", fields=fields)
    topic = first["media_topics"][0]
    assert set(topic) == {"id", "created_ms", "author_ref", "owner_ref", "media", "like_summary"}
    assert topic["owner_ref"] == f"group:{uid}" and topic["like_summary"]["self"] is False
    assert len(first["media_topics"]) == 100 and first["has_more"] is True
    second = ok(emulator, "mediatopic.getTopics", gid=str(uid), count="100", fields=fields,
                anchor=first["anchor"], direction="FORWARD")
    assert second["media_topics"][0]["created_ms"] < first["media_topics"][-1]["created_ms"]
    every = ok(emulator, "mediatopic.getTopics", gid=str(uid), count="3",
               fields="media_topic.*")["media_topics"][0]
    assert {"reshare_summary", "discussion_summary", "views_count"} <= set(every)


@pytest.mark.parametrize(("params", "code"), [
    ({"count": "101"}, 100), ({"anchor": "not-an-anchor"}, 100),
    ({"direction": "AROUND"}, 100), ({"fate": "deleted"}, 300), ({"fate": "closed"}, 10),
])
def test_ok_group_feed_errors(emulator, params, code):
    uid = ok_ids(params.pop("fate", "active"), 1)[0]
    answer = ok(emulator, "mediatopic.getTopics", gid=str(uid), **params)
    assert answer["error_code"] == code and "error_msg" in answer


def _script_call(method: str, params: dict) -> object:
    if method == "wall.get":
        return {"count": 2, "items": [{"id": 1, "likes": {"count": 3}, "is_pinned": 1},
                                      {"id": 2, "likes": {"count": 4}}, 5]}
    return {"method": method, "params": params}


@pytest.mark.parametrize(("code", "expected"), [
    ('var w = API.wall.get({"owner_id": -1});'
     "return [w.count, w.items@.id, w.items@.likes@.count, w.items@.is_pinned];",
     [2, [1, 2, None], [3, 4, None], [1, None, None]]),
    ('var w = API.wall.get({"owner_id": -1}); return [w . items @.id, w.items@.\nid];',
     [[1, 2, None], [1, 2, None]]),
    # a field may be any token: a string (escapes and all), or an API method's whole name
    ('var x = {"a\\"b": [{"c": 1}, 2]}; return [x."a\\"b"@.c, x . "a\\"b", x.API.a.b, x.APIx];',
     [[1, None], [{"c": 1}, 2], None, None]),
    # parameters written as JSON are read as JSON; others as VKScript
    ('return API.x.y({"a": 1e3, "b": "\\u0416", "c": [true, null]}).params;',
     {"a": 1000.0, "b": "Ж", "c": [True, None]}),
    ('return API.x.y({a: -1, "b": [2.5]}).params;', {"a": -1, "b": [2.5]}),
])
def test_vkscript_reads_every_token_form_alike(code, expected):
    """The parser's shortcuts for common token runs (``.name``, ``"key":``) change nothing."""
    assert vkscript.run(code, _script_call) == expected
    assert vkscript.run(code, _script_call) == expected  # the second time from the parse cache


@pytest.mark.parametrize("code", ['return {"k": 1} @ .k;', 'return {"k": 1}.', 'return "a\\q";',
                                  'var "=" 1; return 1;'])
def test_vkscript_refuses_ill_formed_scripts(code):
    with pytest.raises(vkscript.ScriptError) as error:
        vkscript.run(code, _script_call)
    assert error.value.code == 12


def test_members_wobble_hashes_as_h_does():
    """members_on goes on hashing from a cached head: the same digest as ``h`` of the parts."""
    for gid in (1, 77, 123_456_789):
        for days in (0, 2517):
            hasher = emu_data._hash_head(SEED, "vk", "wobble").copy()
            hasher.update(f"{gid}|{days}".encode())
            assert int.from_bytes(hasher.digest(), "big") == emu_data.h(SEED, "vk", "wobble",
                                                                         gid, days)


class _Page(dict):
    """A dict that can be watched with a weak reference."""


def test_a_scripts_answers_are_freed_without_the_cyclic_collector():
    # Held in a reference cycle, a run's 2,500 posts waited for a full garbage collection,
    # which then stalled every request of the emulator.
    made: list[weakref.ref] = []

    def call(method: str, params: dict) -> _Page:
        page = _Page(count=1, items=[{"id": 1}])
        made.append(weakref.ref(page))
        return page

    gc.disable()
    try:
        answer = vkscript.run('var r0=API.wall.get({"owner_id": -1});return r0.items@.id;', call)
        assert answer == [1]
        assert len(made) == 1 and made[0]() is None
    finally:
        gc.enable()
