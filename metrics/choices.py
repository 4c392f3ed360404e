from django.db import models


class Indicator(models.TextChoices):
    """Table-1 rows (labels exactly as in the agency's form) and the collected extras."""

    MEMBERS = "members", "Количество участников"
    VISITS = "visits", "Посещения"
    UNIQUE_VISITORS = "unique_visitors", "Абсолютно уникальные посетители*"
    WALL_VIEWS = "wall_views", "Просмотр стены группы и раздела Мои новости"
    FEEDBACK = "feedback", "Обратная связь** + активность"
    POSTS = "posts", "Публикации"
    LIKES = "likes", "Отметки «Нравится»"
    REPOSTS = "reposts", "Репосты"
    COMMENTS = "comments", "Комментарии"
    VIEWS = "views", "Просмотры публикаций"
    REACH = "reach", "Охват"


TABLE1_INDICATORS = [
    Indicator.MEMBERS,
    Indicator.VISITS,
    Indicator.UNIQUE_VISITORS,
    Indicator.WALL_VIEWS,
    Indicator.FEEDBACK,
]
TABLE1_INDICATOR_CHOICES = [(i.value, i.label) for i in TABLE1_INDICATORS]
TABLE1_FOOTNOTES = [
    "* человек, который посещает группу в первый раз в течении обусловленного (заданного) "
    "периода времени",
    "** размещение информации со страницы группы на личных страницах пользователей",
]


class ValueSource(models.TextChoices):
    MANUAL = "manual", "Введено вручную"
    IMPORT = "import", "Импорт из файла"
    VK_API = "vk_api", "VK API"
    OK_API = "ok_api", "OK API"


class PostFormat(models.TextChoices):
    """A post's main format, the first of these it carries (see ``metrics.formats``)."""

    LIVE = "live", "Прямая трансляция"
    CLIP = "clip", "Клип (короткое видео)"
    VIDEO = "video", "Видео (загруженное)"
    POLL = "poll", "Опрос"
    ARTICLE = "article", "Статья"
    PHOTO = "photo", "Фото"
    LINK = "link", "Ссылка"
    TEXT = "text", "Только текст"
