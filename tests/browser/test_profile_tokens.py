"""A person makes an API token on the profile page, copies it once, and revokes it."""

import re

from playwright.sync_api import expect

from institutions.models import ApiToken


def test_a_methodologist_creates_sees_once_and_revokes_a_token(logged_in_page, regional):
    page = logged_in_page(regional)
    page.get_by_role("link", name=re.compile("methodist")).click()
    expect(page.get_by_role("heading", name="Токены API")).to_be_visible()
    page.get_by_label(re.compile("Название нового токена")).fill("Выгрузка в BI")
    page.get_by_role("button", name="Создать токен").click()
    key = page.locator("#new-token-key").inner_text()
    token = ApiToken.objects.get(user=regional)
    assert key.startswith(token.prefix + ".") and ApiToken.objects.is_valid(key)
    page.goto("/profile/")
    expect(page.locator("#new-token-key")).to_have_count(0)
    expect(page.locator("#tokens-table")).to_contain_text("ещё не использовался")
    page.get_by_role("button", name="Отозвать токен «Выгрузка в BI»").click()
    expect(page.locator("#tokens-table")).to_contain_text("отозван")
    assert not ApiToken.objects.is_valid(key)
