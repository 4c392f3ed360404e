from django.db import models


class TerritoryKind(models.TextChoices):
    MUNICIPAL_DISTRICT = "municipal_district", "Муниципальный район"
    URBAN_OKRUG = "urban_okrug", "Городской округ"
    MUNICIPAL_OKRUG = "municipal_okrug", "Муниципальный округ"


class InstitutionType(models.TextChoices):
    CLUB = "club", "Клубное учреждение (КДУ)"
    LIBRARY = "library", "Библиотека"
    MUSEUM = "museum", "Музей"
    THEATRE = "theatre", "Театр"
    CONCERT = "concert", "Концертная организация"
    PARK = "park", "Парк"
    EDUCATION = "education", "Образовательное учреждение культуры"
    AUTHORITY = "authority", "Орган управления культурой"
    OTHER = "other", "Иное"


class Subordination(models.TextChoices):
    REGIONAL = "regional", "Региональное"
    MUNICIPAL = "municipal", "Муниципальное"


class Network(models.TextChoices):
    VK = "vk", "ВКонтакте"
    OK = "ok", "Одноклассники"


class CommunityState(models.TextChoices):
    ACTIVE = "active", "Активно"
    CLOSED = "closed", "Закрыто"
    DELETED = "deleted", "Удалено"


class Role(models.TextChoices):
    REGIONAL_METHODOLOGIST = "regional", "Региональный методист"
    MUNICIPAL = "municipal", "Муниципальный отдел культуры"
    EDITOR = "editor", "Редактор учреждения"
    VIEWER = "viewer", "Наблюдатель"
    API_CLIENT = "api_client", "API-клиент"


class CommunityKind(models.TextChoices):
    """What the network says the page is (VK ``type``; OK groups are groups)."""

    GROUP = "group", "Группа"
    PAGE = "page", "Публичная страница"
    EVENT = "event", "Мероприятие"
    PROFILE = "profile", "Личный профиль"


class WallMode(models.IntegerChoices):
    """VK's ``wall`` of a community: who may post and whether comments are open."""

    DISABLED = 0, "Стена выключена"
    OPEN = 1, "Открытая (пишут все)"
    LIMITED = 2, "Ограниченная (пишет сообщество, комментарии открыты)"
    RESTRICTED = 3, "Закрытая (пишет сообщество, комментарии закрыты)"


class CommunityCategory(models.TextChoices):
    """The region's categories of official pages, each with its activity norms."""

    FLAGSHIP = "flagship", "Флагманский"
    ACTIVE = "active", "Активный"
    CARD = "card", "Визитка"
