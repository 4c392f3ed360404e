import pytest

from institutions.links import LinkError, parse_community_link

GOOD = [
    ("vk.com/dk_alekseevka", "vk", None, "dk_alekseevka"),
    ("https://vk.com/dk_alekseevka/", "vk", None, "dk_alekseevka"),
    ("http://vk.ru/Dk_Alekseevka?w=wall-1_2", "vk", None, "dk_alekseevka"),
    ("m.vk.com/biblioteka.bor", "vk", None, "biblioteka.bor"),
    ("https://m.vk.com/club123", "vk", 123, ""),
    ("https://vk.com/club123", "vk", 123, ""),
    ("vk.com/public456", "vk", 456, ""),
    ("public123", "vk", 123, ""),
    ("event789", "vk", 789, ""),
    ("www.vk.com/event789#top", "vk", 789, ""),
    ("https://vk.com/wall-321_45", "vk", 321, ""),
    ("  «https://vk.com/club77»  ", "vk", 77, ""),
    ("ok.ru/group/53038939046008", "ok", 53038939046008, ""),
    ("https://ok.ru/group/53038939046008/", "ok", 53038939046008, ""),
    ("https://m.ok.ru/group53038939046008", "ok", 53038939046008, ""),
    ("ok.ru/dkalekseevka", "ok", None, "dkalekseevka"),
    ("https://ok.ru/dkalekseevka?utm_source=x", "ok", None, "dkalekseevka"),
]

BAD = [
    "",
    "   ",
    "https://example.com/club1",
    "vk.com",
    "https://vk.com/",
    "vk.com/id12345",
    "https://vk.com/club1/photos",
    "ok.ru/group/",
    "ok.ru/profile",
    "просто текст",
    "vk.com/имя_по-русски",
    "javascript:alert(1)",
]


@pytest.mark.parametrize(("raw", "network", "network_id", "screen_name"), GOOD)
def test_accepts_what_people_paste(raw, network, network_id, screen_name):
    parsed = parse_community_link(raw)
    assert (parsed.network, parsed.network_id, parsed.screen_name) == (
        network, network_id, screen_name,
    )


@pytest.mark.parametrize("raw", BAD)
def test_rejects_anything_else_naming_the_input(raw):
    with pytest.raises(LinkError) as err:
        parse_community_link(raw)
    assert raw.strip() in str(err.value) or "Пустая" in str(err.value)


def test_canonical_url_is_stable():
    assert parse_community_link("vk.ru/club5").url == "https://vk.com/club5"
    assert parse_community_link("ok.ru/group/9").url == "https://ok.ru/group/9"
    assert parse_community_link("ok.ru/name").url == "https://ok.ru/name"
