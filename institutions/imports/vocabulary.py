"""The words of a registry sheet: headers, institution types, names, territories and links."""

from __future__ import annotations

import re
from enum import StrEnum

from django.utils.translation import gettext as _

from institutions.choices import InstitutionType, Network, Subordination, TerritoryKind
from institutions.links import LinkError, ParsedLink, parse_community_link

_BARE_NAME = re.compile(r"^[a-z0-9_.]{2,64}$", re.IGNORECASE)
_WORDS = re.compile(r"[0-9a-zа-я]+")
_QUOTES = str.maketrans({c: '"' for c in "«»“”„‟'`"})


class Column(StrEnum):
    """A field of the registry sheet, recognised from its Russian header."""

    TERRITORY = "territory"
    OKTMO = "oktmo"
    FULL_NAME = "full_name"
    SHORT_NAME = "short_name"
    TYPE = "type"
    INN = "inn"
    SUBORDINATION = "subordination"
    VK = "vk"
    OK = "ok"


COLUMN_LABELS = {
    Column.TERRITORY: "Территория",
    Column.OKTMO: "ОКТМО",
    Column.FULL_NAME: "Полное наименование",
    Column.SHORT_NAME: "Краткое наименование",
    Column.TYPE: "Тип",
    Column.INN: "ИНН",
    Column.SUBORDINATION: "Подведомственность",
    Column.VK: "Ссылки VK",
    Column.OK: "Ссылки OK",
}
LINK_COLUMNS = {Column.VK: Network.VK, Column.OK: Network.OK}


def header_column(text: str) -> Column | None:
    """Which registry field a header cell names (case-insensitive Russian, a few synonyms)."""
    words = _WORDS.findall(_fold(text))
    if not words:
        return None
    wordset, joined = set(words), " ".join(words)
    about_territory = any(w.startswith(("территор", "муниципал", "район")) for w in words)
    if "октмо" in wordset:
        return Column.OKTMO
    if "инн" in wordset:
        return Column.INN
    if wordset & {"vk", "вк", "вконтакте", "vkontakte"}:
        return Column.VK
    if wordset & {"ok", "ок", "одноклассники", "odnoklassniki"}:
        return Column.OK
    if words[0] in {"тип", "вид"}:
        return None if about_territory else Column.TYPE
    if any(w.startswith(("подведомств", "подчин")) for w in words):
        return Column.SUBORDINATION
    if about_territory:
        return Column.TERRITORY
    if any(w.startswith(("кратк", "сокращ")) for w in words):
        return Column.SHORT_NAME
    if any(stem in joined for stem in ("учрежден", "наименован", "организац")):
        return Column.FULL_NAME
    return None


def _fold(text: str) -> str:
    return text.casefold().replace("ё", "е")


def name_key(text: str) -> str:
    """Case, ё/е, quote style and spacing do not make two names different."""
    return " ".join(_fold(text).translate(_QUOTES).split())


_TERRITORY_NOISE = {
    "муниципальный", "муниципального", "городской", "городского", "район", "района", "округ",
    "округа", "город", "города", "г", "о", "м", "р", "мр", "го", "мо", "образование",
}


def territory_kind(name: str) -> TerritoryKind:
    """The kind a new territory's name says («городской округ», «муниципальный округ»)."""
    words = " ".join(_WORDS.findall(_fold(name)))
    if "городск" in words or re.search(r"\bго\b", words):
        return TerritoryKind.URBAN_OKRUG
    if "округ" in words or re.search(r"\bмо\b", words):
        return TerritoryKind.MUNICIPAL_OKRUG
    return TerritoryKind.MUNICIPAL_DISTRICT


_PLAIN_WORDS = {"клуб", "иное", "иные", "дом"}


def institution_type_words() -> list[tuple[str, list[str]]]:
    """Each institution type's label and the other words and abbreviations the import accepts."""
    words: dict[InstitutionType, list[str]] = {choice: [] for choice in InstitutionType}
    for abbreviation, choice in _TYPE_ABBREVIATIONS.items():
        shown = " ".join(w if w in _PLAIN_WORDS or len(w) > 4 else w.upper()
                         for w in abbreviation.split())
        if shown not in words[choice]:
            words[choice].append(shown)
    for stems, choice in _TYPE_STEMS:
        words[choice] += [f"…{stem}…" for stem in stems]
    return [(str(choice.label), words[choice]) for choice in InstitutionType]


def territory_stem(text: str) -> str:
    """A territory name without its kind: «м.р. Алексеевский» ~ «Алексеевский район»."""
    return " ".join(w for w in _WORDS.findall(_fold(text)) if w not in _TERRITORY_NOISE)


_TYPE_ABBREVIATIONS: dict[str, InstitutionType] = {
    **{abbr: InstitutionType.CLUB for abbr in (
        "кду", "дк", "сдк", "рдк", "гдк", "цдк", "кдц", "цкс", "кдо", "скц", "цкд", "рдк",
        "клуб", "сельский клуб", "дом культуры", "клубное учреждение",
        "культурно досуговое учреждение", "кдк", "мкду", "мбу кдц",
    )},
    **{abbr: InstitutionType.LIBRARY for abbr in ("цбс", "мцб", "цб", "црб", "цгб", "мбс")},
    **{abbr: InstitutionType.EDUCATION for abbr in ("дши", "дмш", "дхш", "дшхр")},
    **{abbr: InstitutionType.AUTHORITY for abbr in ("оук", "уок", "мкук")},
    **{abbr: InstitutionType.OTHER for abbr in ("иное", "прочее", "другое", "иные")},
}
_TYPE_STEMS: list[tuple[tuple[str, ...], InstitutionType]] = [
    (("управлени", "отдел культур", "комитет", "министерств", "орган"), InstitutionType.AUTHORITY),
    (("образоват", "школа искусств", "колледж", "училищ", "школа"), InstitutionType.EDUCATION),
    (("библиот",), InstitutionType.LIBRARY),
    (("музе",), InstitutionType.MUSEUM),
    (("театр",), InstitutionType.THEATRE),
    (("концерт", "филармони"), InstitutionType.CONCERT),
    (("парк",), InstitutionType.PARK),
    (("клуб", "досуг", "дом культуры", "дворец культуры"), InstitutionType.CLUB),
]


def parse_institution_type(text: str) -> InstitutionType | None:
    """An InstitutionType from its Russian label, its code or a common abbreviation."""
    key = " ".join(_WORDS.findall(_fold(text)))
    for choice in InstitutionType:
        if key in {" ".join(_WORDS.findall(_fold(choice.label))), choice.value}:
            return choice
    if key in _TYPE_ABBREVIATIONS:
        return _TYPE_ABBREVIATIONS[key]
    for stems, choice in _TYPE_STEMS:
        if any(stem in key for stem in stems):
            return choice
    return None


def parse_subordination(text: str) -> Subordination | None:
    key = _fold(text).strip()
    if key.startswith(("регион", "област", "гос", "regional")):
        return Subordination.REGIONAL
    if key.startswith(("муниц", "municipal")):
        return Subordination.MUNICIPAL
    return None


def parse_link_token(token: str, column_network: Network) -> ParsedLink:
    """A link from a VK or OK column cell; bare names and numbers take the column's network."""
    text = token.strip().strip("\"'«»<>")
    host = "vk.com" if column_network == Network.VK else "ok.ru"
    if text.isdecimal():
        text = f"vk.com/club{text}" if column_network == Network.VK else f"ok.ru/group/{text}"
    elif _BARE_NAME.match(text) and "." not in text and not _is_vk_numeric(text):
        text = f"{host}/{text}"
    link = parse_community_link(text)
    if link.network != column_network:
        raise LinkError(
            _("«%(link)s» указана в колонке %(column)s, но ведёт в %(network)s.")
            % {
                "link": token,
                "column": Network(column_network).label,
                "network": Network(link.network).label,
            }
        )
    return link


def _is_vk_numeric(text: str) -> bool:
    return bool(re.match(r"^(club|public|event)\d+$", text, re.IGNORECASE))
