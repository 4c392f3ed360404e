"""The emulator answers like VK and OK: shapes, limits, execute semantics, signatures, faults."""

import datetime as dt

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

from metrics.emulator import data as emu_data
from metrics.ok.client import signature
from tests.metrics.conftest import SEED, ok_ids, vk_ids


def vk(emulator, method: str, token: str = "vkemu-svc-emu", **params) -> dict:
    response = requests.post(emulator.vk_url + method,
                             data={"access_token": token, "v": "5.199", **params}, timeout=10)
    return response.json()


def ok(emulator, method: str, *, secret: str = "emulator-secret", token: str = "okemu-usr-e",
       **params) -> dict:
    values = {**params, "application_key": "CBAEMULATOR", "method": method, "format": "json"}
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
    assert answer["execute_errors"] == [{"method": "wall.get", "error_code": 15,
                                         "error_msg": "Access denied"}]
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


def test_ok_checks_the_signature_and_answers_in_its_shape(emulator):
    uid, gone = ok_ids("active", 1)[0], ok_ids("deleted", 1)[0]
    assert ok(emulator, "group.getInfo", uids=str(uid), secret="wrong")["error_code"] == 104
    groups = ok(emulator, "group.getInfo", uids=f"{uid},{gone}", fields="members_count")
    assert groups == [emu_data.ok_group(SEED, uid, dt.datetime.now(dt.UTC).date())]
    assert ok(emulator, "group.getInfo", token="bad", uids="1")["error_code"] == 102


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
