"""The demo region's communities as the emulator knows them: one source for both.

The emulator answers every community id from ``emulator.data`` (its name, fate and members on
each day). The demo picks ids whose emulated community fits the institution (a library gets an
id the emulator names «Библиотека №…», a closed community one the emulator answers as closed)
and takes its registry titles, daily member history and Table-1 members from the same
functions, so «Собрать сейчас» continues each curve and keeps each name.
"""

from __future__ import annotations

import datetime as dt

from emulator import data as emu
from institutions.choices import CommunityState, InstitutionType

#: The emulator's seed in ``make run`` (``manage.py network_emulator --seed``, default 1).
EMULATOR_SEED = 1

_NAMES_BY_TYPE = {
    InstitutionType.CLUB: ("Дом культуры", "Клуб"),
    InstitutionType.LIBRARY: ("Библиотека",),
    InstitutionType.MUSEUM: ("Музей",),
    InstitutionType.EDUCATION: ("Школа искусств",),
    InstitutionType.THEATRE: ("Театр",),
    InstitutionType.PARK: ("Парк",),
}
_FATE_BY_STATE = {CommunityState.ACTIVE: "active", CommunityState.CLOSED: "closed",
                  CommunityState.DELETED: "deleted"}


def network_today() -> dt.date:
    """The emulator's "today" (UTC, as it answers); the demo's history ends the day before."""
    return dt.datetime.now(dt.UTC).date()


def fitting_id(network: str, start: int, institution_type: str, state: str) -> int:
    """The first id from ``start`` whose emulated community fits the type and the state."""
    names = _NAMES_BY_TYPE.get(institution_type, ("Культурный центр", "Клуб"))
    fate = _FATE_BY_STATE[state]
    gid = start
    while True:  # about one id in ten fits an active community, one in a thousand a deleted one
        if (emu.fate(EMULATOR_SEED, network, gid) == fate
                and emu.display_name(EMULATOR_SEED, network, gid).startswith(names)):
            return gid
        gid += 1


def title_of(network: str, gid: int) -> str:
    return emu.display_name(EMULATOR_SEED, network, gid)


def members_on(network: str, gid: int, day: dt.date) -> int:
    return emu.members_on(EMULATOR_SEED, network, gid, day)


def missed(network: str, gid: int, day: dt.date) -> bool:
    """A day the demo pretends its collection missed (about one in fifty)."""
    return emu.h(EMULATOR_SEED, "demo-missed", network, gid, day.toordinal()) % 50 == 0


def deleted_on(network: str, gid: int, end: dt.date) -> dt.date:
    """The last day of a demo community the emulator answers as deleted: in the half-year
    before ``end``'s year began, so reruns within a year agree."""
    before = emu.h(EMULATOR_SEED, "demo-deleted", network, gid) % 180
    return dt.date(end.year, 1, 1) - dt.timedelta(days=1 + before)
