"""A post's format, images, videos and hashtags from VK's attachments and OK's media blocks."""

import pytest

from metrics.choices import PostFormat
from metrics.formats import hashtags, ok_media_kinds, vk_post_fact


def fact(attachments, text=""):
    return vk_post_fact(key=1, date=1_772_000_000, text=text, attachments=attachments,
                        can_comment=1, likes=0, reposts=0, comments=0, views=0)


PHOTO = {"type": "photo", "photo": {"id": 1}}


@pytest.mark.parametrize(("attachments", "expected"), [
    ([], PostFormat.TEXT),
    ([PHOTO], PostFormat.PHOTO),
    ([{"type": "video", "video": {"id": 1}}], PostFormat.VIDEO),
    ([{"type": "video", "video": {"id": 1, "live": 1}}], PostFormat.LIVE),
    ([{"type": "clip", "clip": {"id": 1}}], PostFormat.CLIP),
    ([{"type": "video", "video": {"id": 1, "type": "short_video"}}], PostFormat.CLIP),
    ([{"type": "poll", "poll": {"id": 1}}], PostFormat.POLL),
    ([{"type": "link", "link": {"url": "https://vk.com/@club1-afisha"}}], PostFormat.ARTICLE),
    ([{"type": "link", "link": {"url": "https://museum.example.ru/news"}}], PostFormat.LINK),
    ([PHOTO, {"type": "poll", "poll": {"id": 1}}], PostFormat.POLL),  # the rarer format wins
])
def test_a_vk_posts_format_is_the_first_its_attachments_show(attachments, expected):
    assert fact(attachments).format == expected


def test_a_linked_video_is_not_an_uploaded_one():
    platform = fact([{"type": "video", "video": {"id": 1, "platform": "YouTube"}}])
    link = fact([{"type": "link", "link": {"url": "https://rutube.ru/video/abc/"}}])
    uploaded = fact([{"type": "video", "video": {"id": 1}}])
    assert (platform.has_external_video, platform.has_video) == (True, False)
    assert (link.has_external_video, link.format) == (True, PostFormat.LINK)
    assert (uploaded.has_external_video, uploaded.has_video) == (False, True)


def test_images_and_comments_are_read():
    post = fact([PHOTO])
    assert post.has_image and post.comments_open is True
    assert not fact([]).has_image


def test_hashtags_are_counted_once_each_in_lower_case():
    assert hashtags("#НашДК концерт #нашдк #Афиша_2026, #культура") == (
        "нашдк", "афиша_2026", "культура")
    assert fact([], "Без хештегов").hashtags == ()


def test_ok_media_blocks_give_formats_linked_videos_and_the_text():
    kinds, external, text = ok_media_kinds([
        {"type": "text", "text": "Концерт #нашдк"}, {"type": "photo"},
        {"type": "link", "url": "https://www.youtube.com/watch?v=1"},
        {"type": "movie", "is_live": True}])
    assert kinds == {PostFormat.PHOTO, PostFormat.LINK, PostFormat.LIVE}
    assert external and text == "Концерт #нашдк"
