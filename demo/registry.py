"""A believable demo region, generated deterministically from a seed.

Natural keys (OKTMO, INN, network id, username) make a second run a no-op.
"""

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction

from demo.network import fitting_id, title_of
from institutions.choices import (
    CommunityState,
    InstitutionType,
    Network,
    Role,
    Subordination,
    TerritoryKind,
)
from institutions.models import Community, Institution, Territory, UserProfile

DEMO_PASSWORD = "demo12345"

DISTRICTS = [
    "Алексеевский", "Безенчукский", "Богатовский", "Большеглушицкий", "Большечерниговский",
    "Борский", "Волжский", "Елховский", "Исаклинский", "Камышлинский", "Кинельский",
    "Кинель-Черкасский", "Клявлинский", "Кошкинский", "Красноармейский", "Красноярский",
    "Нефтегорский", "Пестравский", "Похвистневский", "Приволжский", "Сергиевский",
    "Ставропольский",
]
OKRUGS = ["Самара", "Тольятти", "Сызрань", "Новокуйбышевск", "Чапаевск", "Отрадный",
          "Жигулёвск", "Кинель"]
VILLAGES = [
    "Ольгино", "Покровка", "Михайловка", "Никольское", "Успенка", "Вознесенка", "Берёзовка",
    "Каменка", "Садовое", "Луговое", "Заречное", "Ивановка", "Петровка", "Сосновка", "Ключи",
    "Дубовый Умёт", "Красный Яр", "Малая Малышевка", "Старая Бинарадка", "Новый Буян",
    "Высокое", "Черновка", "Калиновка", "Журавлиха", "Ягодное", "Рождествено",
]
REGIONAL = [
    ("Самарская областная универсальная научная библиотека", "СОУНБ", InstitutionType.LIBRARY),
    ("Агентство социокультурных технологий", "ГБУК «АСТ»", InstitutionType.CLUB),
    ("Самарский областной художественный музей", "СОХМ", InstitutionType.MUSEUM),
    ("Самарский академический театр оперы и балета", "Театр оперы и балета",
     InstitutionType.THEATRE),
    ("Самарская государственная филармония", "Филармония", InstitutionType.CONCERT),
    ("Министерство культуры Самарской области", "Минкультуры", InstitutionType.AUTHORITY),
    ("Самарский областной историко-краеведческий музей им. П. В. Алабина", "Музей Алабина",
     InstitutionType.MUSEUM),
    ("Самарская областная детская библиотека", "СОДБ", InstitutionType.LIBRARY),
    ("Самарский социально-педагогический колледж культуры", "Колледж культуры",
     InstitutionType.EDUCATION),
    ("Парк культуры и отдыха им. Ю. Гагарина", "Парк Гагарина", InstitutionType.PARK),
]
_TYPE_WEIGHTS = [
    (InstitutionType.CLUB, 45), (InstitutionType.LIBRARY, 30), (InstitutionType.MUSEUM, 7),
    (InstitutionType.EDUCATION, 8), (InstitutionType.AUTHORITY, 3), (InstitutionType.THEATRE, 1),
    (InstitutionType.CONCERT, 1), (InstitutionType.PARK, 2), (InstitutionType.OTHER, 3),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    label: str


DEMO_USERS = [
    DemoUser("admin", "", "Администратор (суперпользователь)"),
    DemoUser("methodist", Role.REGIONAL_METHODOLOGIST, "Региональный методист"),
    DemoUser("municipal", Role.MUNICIPAL, "Отдел культуры (2 территории)"),
    DemoUser("editor", Role.EDITOR, "Редактор учреждения (2 учреждения)"),
    DemoUser("viewer", Role.VIEWER, "Наблюдатель (весь регион)"),
    DemoUser("api", Role.API_CLIENT, "API-клиент (токен)"),
]


def make_inn(rng: random.Random) -> str:
    """A 10-digit INN of a Samara-region legal entity with a valid check digit."""
    digits = [6, 3] + [rng.randrange(10) for _ in range(7)]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    digits.append(sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)
    return "".join(map(str, digits))


def _institution_name(rng: random.Random, kind: str, place: str, n: int) -> tuple[str, str]:
    village = rng.choice(VILLAGES)
    names = {
        InstitutionType.CLUB: (f"Дом культуры с. {village}", "МБУК"),
        InstitutionType.LIBRARY: (f"Библиотека-филиал № {n} с. {village}", "МБУК"),
        InstitutionType.MUSEUM: (f"Краеведческий музей {place}", "МБУК"),
        InstitutionType.EDUCATION: (f"Детская школа искусств № {n} {place}", "МБУ ДО"),
        InstitutionType.AUTHORITY: (f"Управление культуры администрации {place}", ""),
        InstitutionType.THEATRE: (f"Народный театр {place}", "МБУК"),
        InstitutionType.CONCERT: (f"Концертный зал {place}", "МБУК"),
        InstitutionType.PARK: (f"Парк культуры и отдыха {place}", "МБУ"),
        InstitutionType.OTHER: (f"Центр народного творчества с. {village}", "МБУК"),
    }
    short, prefix = names[kind]
    full = f"{prefix} «{short}»".strip() if prefix else short
    return full, short


def _territories(rng: random.Random) -> list[Territory]:
    rows = [(f"{d} муниципальный район", TerritoryKind.MUNICIPAL_DISTRICT, f"36{600 + i * 3}000")
            for i, d in enumerate(DISTRICTS)]
    rows += [(f"Городской округ {o}", TerritoryKind.URBAN_OKRUG, f"36{700 + i * 3}000")
             for i, o in enumerate(OKRUGS)]
    Territory.objects.bulk_create(
        [Territory(name=n, kind=k, oktmo=code) for n, k, code in rows], ignore_conflicts=True
    )
    return list(Territory.objects.filter(oktmo__in=[r[2] for r in rows]).order_by("oktmo"))


def _institutions(rng: random.Random, territories: list[Territory], total: int) -> list[str]:
    kinds, weights = zip(*_TYPE_WEIGHTS, strict=True)
    rows, seen = [], set()
    capital = territories[len(DISTRICTS)] if len(territories) > len(DISTRICTS) else territories[0]
    for full, short, kind in REGIONAL:
        rows.append(Institution(full_name=f"ГБУК «{full}»", short_name=short, type=kind,
                                territory=capital, subordination=Subordination.REGIONAL))
    for i in range(total - len(REGIONAL)):
        territory = territories[i % len(territories)]
        place = territory.name.replace("ий муниципальный район", "ого района").replace(
            "Городской округ ", "г.о. ")
        kind = rng.choices(kinds, weights)[0]
        full, short = _institution_name(rng, kind, place, i // len(territories) + 1)
        rows.append(Institution(full_name=full, short_name=short, type=kind, territory=territory,
                                subordination=Subordination.MUNICIPAL,
                                is_active=rng.random() > 0.02))
    for row in rows:
        inn = make_inn(rng)
        while inn in seen:
            inn = make_inn(rng)
        seen.add(inn)
        row.inn = inn
    Institution.objects.bulk_create(rows, ignore_conflicts=True)
    return [r.inn for r in rows]


def _communities(rng: random.Random, institutions: list[Institution]) -> int:
    """Communities whose ids the emulator answers with a fitting name and the same state."""
    rows, next_id = [], {Network.VK: 100_000_000, Network.OK: 50_000_000_000_000}
    for inst in institutions:
        roll = rng.random()
        networks = ([] if roll < 0.05 else [Network.VK] if roll < 0.5
                    else [Network.VK, Network.OK] if roll < 0.88 else [Network.VK, Network.VK])
        for network in networks:
            state = rng.choices(
                [CommunityState.ACTIVE, CommunityState.CLOSED, CommunityState.DELETED],
                [96, 3, 1])[0]
            gid = fitting_id(network, next_id[network] + rng.randrange(1, 5000), inst.type,
                             state)
            next_id[network] = gid
            url = (f"https://vk.com/club{gid}" if network == Network.VK
                   else f"https://ok.ru/group/{gid}")
            rows.append(Community(
                institution=inst, network=network, network_id=gid, url=url,
                title=title_of(network, gid), is_verified=rng.random() < 0.7, state=state,
            ))
    Community.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _users(territories: list[Territory], institutions: list[Institution]) -> None:
    user_model = get_user_model()
    for demo in DEMO_USERS:
        user, created = user_model.objects.get_or_create(
            username=demo.username, defaults={"first_name": demo.label[:150]}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_superuser = user.is_staff = demo.username == "admin"
            user.save()
        if not demo.role:
            continue
        if demo.role == Role.REGIONAL_METHODOLOGIST and not user.is_staff:
            user.is_staff = True  # the registry and the beat schedule are edited in the admin
            user.save(update_fields=["is_staff"])
            user.user_permissions.set(_methodologist_permissions())
        profile, _ = UserProfile.objects.get_or_create(user=user, defaults={"role": demo.role})
        if demo.role == Role.MUNICIPAL:
            profile.territories.set(territories[:2])
        elif demo.role == Role.EDITOR:
            first = [i for i in institutions if i.territory_id == territories[0].pk]
            profile.institutions.set(first[:2])


def _methodologist_permissions() -> list[Permission]:
    apps = ["institutions", "metrics", "reports", "django_celery_beat"]
    return list(Permission.objects.filter(content_type__app_label__in=apps))


@transaction.atomic
def seed_registry(*, seed: int = 1, institutions: int = 800) -> dict[str, int]:
    """Create the demo territories, institutions, communities and users; return the counts."""
    rng = random.Random(seed)
    territories = _territories(rng)
    inns = _institutions(rng, territories, institutions)
    insts = list(Institution.objects.filter(inn__in=inns).order_by("pk"))
    _communities(rng, insts)
    _users(territories, insts)
    return {
        "territories": len(territories),
        "institutions": len(insts),
        "communities": Community.objects.filter(institution__in=insts).count(),
    }
