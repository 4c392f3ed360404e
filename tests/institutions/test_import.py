"""Stories of the registry import from .xlsx: the methodologist uploads the region's registry.

Files are built in the tests with openpyxl; the plan is checked against what lands in PostgreSQL.
"""

import io
import random
import re
import zipfile
from collections.abc import Iterable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from demo.registry import make_inn
from institutions.choices import InstitutionType, Network, Subordination
from institutions.imports import PlanAction, header_column, parse_institution_type
from institutions.models import Community, Institution
from institutions.services import registry_import
from portal.errors import NotAllowed, ValidationFailed

HEADER = [
    "Территория", "Полное наименование", "Краткое наименование", "Тип", "ИНН", "Ссылки VK",
    "Ссылки OK",
]


def inn(seed: int) -> str:
    return make_inn(random.Random(10_000 + seed))


def bad_inn(seed: int) -> str:
    good = inn(seed)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


def xlsx(
    rows: Iterable[list[Any]], header: list[str] | None = None, *, before: Iterable[list[Any]] = ()
) -> bytes:
    """A workbook with optional title rows, a header row, then the data rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Реестр"
    for row in before:
        sheet.append(row)
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rezip(data: bytes, *, edit: dict[str, Any] | None = None, add: dict[str, bytes] | None = None
          ) -> bytes:
    """Copy an .xlsx, passing chosen members through ``edit`` functions and adding others."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(
        out, "w", zipfile.ZIP_DEFLATED
    ) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if edit and item.filename in edit:
                content = edit[item.filename](content)
            dst.writestr(item.filename, content)
        for name, content in (add or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def registry_snapshot() -> tuple[list[tuple], list[tuple]]:
    institutions = list(
        Institution.objects.order_by("pk").values_list(
            "pk", "full_name", "short_name", "type", "inn", "territory_id", "subordination"
        )
    )
    communities = list(
        Community.objects.order_by("pk").values_list(
            "pk", "institution_id", "network", "network_id", "screen_name"
        )
    )
    return institutions, communities


@pytest.fixture
def good_file(world, territory_a, territory_b, institution_a, institution_b, community_a,
              community_b) -> bytes:
    return xlsx([
        [territory_a.name, "МБУК «Сельский дом культуры с. Ольгино»", "СДК Ольгино", "СДК",
         inn(1), "https://vk.com/sdk_olgino\nvk.com/club555001", "ok.ru/group/700001"],
        ["борский район", "Муниципальная библиотека с. Покровка", "", "библиотека", "",
         "public555002; vk.com/Biblio_Pokrovka", ""],
        [territory_a.name, institution_a.full_name, institution_a.short_name, "Музей",
         institution_a.inn, f"https://vk.com/club{community_a.network_id}", "ok.ru/dk_alekseevka"],
        [territory_b.name, institution_b.full_name, institution_b.short_name,
         "Клубное учреждение (КДУ)", institution_b.inn, f"vk.com/club{community_b.network_id}",
         None],
    ])


# --- a good file ----------------------------------------------------------------------------------


def test_preview_of_a_good_file_says_what_will_happen_and_writes_nothing(good_file, regional):
    before = registry_snapshot()

    plan = registry_import(file=good_file, user=regional, dry_run=True)

    assert [(r.number, r.action) for r in plan.rows] == [
        (2, PlanAction.CREATE), (3, PlanAction.CREATE), (4, PlanAction.UPDATE),
        (5, PlanAction.UNCHANGED),
    ]
    assert plan.counts == {
        "create": 2, "update": 1, "unchanged": 1, "reject": 0, "communities": 6,
    }
    assert not plan.applied and not plan.is_rejected
    assert any("тип" in change and "Музей" in change for change in plan.rows[2].changes)
    assert registry_snapshot() == before


def test_good_file_creates_exactly_what_the_plan_says(
    good_file, regional, territory_a, territory_b, institution_a, community_a
):
    institutions_before = Institution.objects.count()
    communities_before = Community.objects.count()

    plan = registry_import(file=good_file, user=regional, dry_run=False)

    assert plan.applied
    assert Institution.objects.count() == institutions_before + 2
    assert Community.objects.count() == communities_before + 6
    olgino = Institution.objects.get(inn=inn(1))
    assert (olgino.full_name, olgino.short_name, olgino.type, olgino.territory) == (
        "МБУК «Сельский дом культуры с. Ольгино»", "СДК Ольгино", InstitutionType.CLUB,
        territory_a,
    )
    assert olgino.subordination == Subordination.MUNICIPAL
    assert set(olgino.communities.values_list("network", "network_id", "screen_name")) == {
        (Network.VK, None, "sdk_olgino"), (Network.VK, 555001, ""), (Network.OK, 700001, ""),
    }
    pokrovka = Institution.objects.get(full_name="Муниципальная библиотека с. Покровка")
    assert pokrovka.short_name == pokrovka.full_name
    assert (pokrovka.territory, pokrovka.type, pokrovka.inn) == (
        territory_b, InstitutionType.LIBRARY, None,
    )
    assert set(pokrovka.communities.values_list("network_id", "screen_name")) == {
        (555002, ""), (None, "biblio_pokrovka"),
    }
    institution_a.refresh_from_db()
    assert institution_a.type == InstitutionType.MUSEUM
    assert set(institution_a.communities.values_list("pk", flat=True)) == {
        community_a.pk, Community.objects.get(screen_name="dk_alekseevka").pk,
    }
    created_history = olgino.history.get()
    assert (created_history.history_user, created_history.history_change_reason) == (
        regional, "Импорт реестра из .xlsx",
    )
    assert institution_a.history.latest().history_change_reason == "Импорт реестра из .xlsx"


def test_reimporting_the_same_file_changes_nothing(good_file, regional):
    registry_import(file=good_file, user=regional, dry_run=False)
    after_first = registry_snapshot()
    history_rows = Institution.history.count()

    again = registry_import(file=good_file, user=regional, dry_run=False)

    assert {row.action for row in again.rows} == {PlanAction.UNCHANGED}
    assert again.counts["communities"] == 0
    assert registry_snapshot() == after_first
    assert Institution.history.count() == history_rows


def test_header_is_found_below_titles_in_any_order_with_extra_columns(regional, territory_a):
    header = ["№ п/п", "ССЫЛКИ ВК", "Примечание", "тип учреждения", "Учреждение", "код ОКТМО",
              "Муниципальное образование", "Подведомственность"]
    data = xlsx(
        [[1, "club555010", "новое", "ДШИ", "Детская школа искусств № 1", territory_a.oktmo,
          "Алексеевский", "Областное"]],
        header,
        before=[["Реестр госпабликов учреждений культуры"], []],
    )

    plan = registry_import(file=data, user=regional, dry_run=False)

    assert [(r.number, r.action) for r in plan.rows] == [(4, PlanAction.CREATE)]
    school = Institution.objects.get(full_name="Детская школа искусств № 1")
    assert (school.type, school.territory, school.subordination) == (
        InstitutionType.EDUCATION, territory_a, Subordination.REGIONAL,
    )
    assert school.communities.get().network_id == 555010


def test_several_links_per_cell_with_any_separator(regional, territory_a):
    cell = (
        "https://vk.com/club555020\nvk.ru/public555021, m.vk.com/dk.one;vk.com/club555022 "
        "dk_two  —  https://vk.com/club555020/"
    )
    data = xlsx([[territory_a.name, "ДК с несколькими группами", "", "ДК", "", cell,
                  "ok.ru/group/700020;\nhttps://ok.ru/dktwo 700021"]])

    plan = registry_import(file=data, user=regional, dry_run=False)

    assert plan.applied
    created = Institution.objects.get(full_name="ДК с несколькими группами").communities
    assert set(created.values_list("network", "network_id", "screen_name")) == {
        (Network.VK, 555020, ""), (Network.VK, 555021, ""), (Network.VK, None, "dk.one"),
        (Network.VK, 555022, ""), (Network.VK, None, "dk_two"),
        (Network.OK, 700020, ""), (Network.OK, None, "dktwo"), (Network.OK, 700021, ""),
    }


def test_institution_without_inn_is_matched_by_territory_and_name_and_gets_the_inn(
    regional, territory_a
):
    existing = Institution.objects.create(
        full_name="МБУК «Библиотека с. Каменка»", short_name="Библиотека Каменки",
        type=InstitutionType.LIBRARY, territory=territory_a,
    )
    data = xlsx([[territory_a.name, 'мбук "библиотека  с. каменка"', "", "", inn(5), "", ""]])

    plan = registry_import(file=data, user=regional, dry_run=False)

    assert [(r.action, r.institution_id) for r in plan.rows] == [(PlanAction.UPDATE, existing.pk)]
    existing.refresh_from_db()
    assert (existing.inn, existing.full_name) == (inn(5), "МБУК «Библиотека с. Каменка»")


def test_new_link_only_or_a_new_territory_updates_an_institution_found_by_inn(
    world, regional, territory_a, institution_b, community_b
):
    data = xlsx([[territory_a.name, "", "", "", institution_b.inn, "", "ok.ru/group/700030"]])

    plan = registry_import(file=data, user=regional, dry_run=False)

    (row,) = plan.rows
    assert row.action == PlanAction.UPDATE
    assert row.changes == [
        "территория: «Борский муниципальный район» → «Алексеевский муниципальный район»",
        "новое сообщество Одноклассники https://ok.ru/group/700030",
    ]
    institution_b.refresh_from_db()
    assert institution_b.territory == territory_a
    assert institution_b.short_name == "Библиотека Бора"
    assert set(institution_b.communities.values_list("network_id", flat=True)) == {
        community_b.network_id, 700030,
    }


def test_applying_costs_the_same_queries_for_few_rows_and_many(
    regional, territory_a, django_assert_num_queries
):
    def file_of(first: int, count: int) -> bytes:
        return xlsx([
            [territory_a.name, f"Клуб {n}", "", "клуб", inn(200 + n), f"club{570_000 + n}", ""]
            for n in range(first, first + count)
        ])

    small, large = file_of(0, 3), file_of(10, 40)
    # savepoint, advisory lock, three index reads, institutions, their history, communities,
    # release (the persona's profile is cached on the user object).
    with django_assert_num_queries(9):
        registry_import(file=small, user=regional, dry_run=False)
    with django_assert_num_queries(9):
        registry_import(file=large, user=regional, dry_run=False)
    assert Institution.objects.filter(full_name__startswith="Клуб ").count() == 43


# --- a bad file is rejected whole -----------------------------------------------------------------


def test_bad_file_is_rejected_whole_with_a_reason_for_every_bad_row(
    world, regional, territory_a, institution_a, community_b
):
    data = xlsx([
        [territory_a.name, "Новый ДК", "", "ДК", inn(2), "vk.com/club555030", ""],
        ["Несуществующий район", "ДК где-то", "", "ДК", "", "", ""],
        [territory_a.name, "ДК с плохим ИНН", "", "ДК", bad_inn(3), "", ""],
        [territory_a.name, "ДК с плохой ссылкой", "", "ДК", "", "vk.com/id12345", ""],
        [territory_a.name, "Нечто", "", "цирк шапито", "", "", ""],
        [territory_a.name, "ДК с чужой группой", "", "ДК", "", f"club{community_b.network_id}", ""],
        [territory_a.name, "Новый ДК (дубль)", "", "ДК", inn(2), "", ""],
        [territory_a.name, "ДК со ссылкой на OK в колонке VK", "", "ДК", "", "ok.ru/group/1", ""],
        [territory_a.name, "Без типа", "", "", "", "", ""],
        [territory_a.name, "ДК со ссылкой из строки 2", "", "ДК", "", "club555030", ""],
    ])
    before = registry_snapshot()

    plan = registry_import(file=data, user=regional, dry_run=False)

    assert plan.is_rejected and not plan.applied
    assert registry_snapshot() == before
    reasons = {row.number: " ".join(row.reasons) for row in plan.rows}
    assert plan.rows[0].action == PlanAction.CREATE
    assert "«Несуществующий район» не найдена" in reasons[3]
    assert f"ИНН «{bad_inn(3)}» неверен" in reasons[4]
    assert "личную страницу" in reasons[5]
    assert "Тип «цирк шапито» не распознан" in reasons[6]
    assert f"уже принадлежит другому учреждению: «{community_b.institution.short_name}»" in (
        reasons[7]
    )
    assert "уже указано в строке 2" in reasons[8]
    assert "колонке ВКонтакте, но ведёт в Одноклассники" in reasons[9]
    assert "Не указан тип учреждения" in reasons[10]
    assert "уже указана в строке 2" in reasons[11]
    assert [row.number for row in plan.rejected_rows] == list(range(3, 12))


def test_rejected_row_lists_all_its_problems(regional, territory_a):
    data = xlsx([[territory_a.name, "", "", "цирк", bad_inn(4), "vk.com/", ""]])

    plan = registry_import(file=data, user=regional, dry_run=True)

    (row,) = plan.rows
    assert row.action == PlanAction.REJECT
    assert len(row.reasons) == 4, row.reasons


def test_link_problems_are_listed_along_with_cell_problems(world, regional, territory_a,
                                                           community_b):
    data = xlsx([[territory_a.name, "Клуб", "", "цирк", "", f"club{community_b.network_id}", ""]])

    (row,) = registry_import(file=data, user=regional, dry_run=True).rows

    assert row.reasons == [
        row.reasons[0],
        f"Сообщество https://vk.com/club{community_b.network_id} уже принадлежит другому "
        "учреждению: «Библиотека Бора».",
    ]
    assert row.reasons[0].startswith("Тип «цирк» не распознан")


def test_unknown_inn_without_a_name_is_rejected(regional, territory_a):
    data = xlsx([[territory_a.name, "", "", "ДК", inn(6), "", ""]])

    (row,) = registry_import(file=data, user=regional, dry_run=True).rows

    assert row.reasons == [
        f"Учреждение с ИНН {inn(6)} не найдено, а наименование для нового не указано."
    ]


def test_oktmo_of_another_territory_is_rejected(regional, territory_a, territory_b):
    header = ["Территория", "ОКТМО", "Учреждение", "Тип"]
    data = xlsx([[territory_a.name, territory_b.oktmo, "ДК", "ДК"]], header)

    plan = registry_import(file=data, user=regional, dry_run=True)

    assert "принадлежит территории «Борский муниципальный район»" in plan.rows[0].reasons[0]


def test_formula_in_a_cell_rejects_the_row_naming_the_cell(regional, territory_a):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append([territory_a.name, "ДК", "", "ДК", "", "", ""])
    sheet.append([territory_a.name, "ДК 2", "", "ДК", "", '=HYPERLINK("https://vk.com/x")', ""])
    sheet["E2"] = "=1+1"
    buffer = io.BytesIO()
    workbook.save(buffer)

    plan = registry_import(file=buffer.getvalue(), user=regional, dry_run=False)

    assert plan.is_rejected
    assert "ячейки E2" in plan.rows[0].reasons[0]
    assert "ячейки F3" in plan.rows[1].reasons[0]
    assert not Institution.objects.filter(full_name__startswith="ДК").exists()


def test_formula_in_the_header_rejects_the_file(regional):
    data = xlsx([], ["Территория", "Учреждение", "=CONCAT(\"И\",\"НН\")"])

    with pytest.raises(ValidationFailed, match="C1"):
        registry_import(file=data, user=regional, dry_run=True)


def test_sheet_without_a_recognisable_header_is_refused(regional):
    data = xlsx([["a", "b"]], ["Колонка 1", "Колонка 2"])

    with pytest.raises(ValidationFailed, match="не найдена строка заголовков"):
        registry_import(file=data, user=regional, dry_run=True)


def test_duplicate_header_columns_are_refused(regional):
    data = xlsx([], ["Территория", "Учреждение", "ИНН", "ИНН учреждения"])

    with pytest.raises(ValidationFailed, match=r"«ИНН» встречается .*\(C, D\)"):
        registry_import(file=data, user=regional, dry_run=True)


def test_header_only_file_is_refused(regional):
    with pytest.raises(ValidationFailed, match="нет ни одной строки"):
        registry_import(file=xlsx([]), user=regional, dry_run=True)


# --- hostile and wrong files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" * 20, id="text"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, id="old-xls"),
        pytest.param(b"PK\x03\x04broken zip", id="broken-zip"),
    ],
)
def test_file_that_is_not_xlsx_is_refused(regional, content):
    with pytest.raises(ValidationFailed, match="не является книгой Excel"):
        registry_import(file=content, user=regional, dry_run=True)


def test_zip_that_is_not_a_workbook_is_refused(regional):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", b"<document/>")

    with pytest.raises(ValidationFailed, match="не является книгой Excel"):
        registry_import(file=buffer.getvalue(), user=regional, dry_run=True)


def test_empty_file_is_refused(regional):
    with pytest.raises(ValidationFailed, match="пуст"):
        registry_import(file=b"", user=regional, dry_run=True)


def test_file_over_the_upload_limit_is_refused(regional, settings, territory_a):
    data = xlsx([[territory_a.name, "ДК", "", "ДК", "", "", ""]])
    settings.UPLOAD_MAX_BYTES = len(data) - 1

    with pytest.raises(ValidationFailed, match="больше допустимых"):
        registry_import(file=data, user=regional, dry_run=True)


def test_zip_bomb_member_is_refused_before_parsing(regional, territory_a, settings):
    settings.XLSX_MAX_MEMBER_BYTES = 2 * 1024 * 1024
    data = rezip(xlsx([[territory_a.name, "ДК", "", "ДК", "", "", ""]]),
                 add={"xl/media/padding.bin": b"\0" * (3 * 1024 * 1024)})

    with pytest.raises(ValidationFailed, match="zip-бомб"):
        registry_import(file=data, user=regional, dry_run=True)


def test_too_much_uncompressed_data_is_refused(regional, territory_a, settings):
    settings.XLSX_MAX_UNCOMPRESSED_BYTES = 200_000
    noise = random.Random(1).randbytes(250_000)
    data = rezip(xlsx([[territory_a.name, "ДК", "", "ДК", "", "", ""]]),
                 add={"xl/media/image1.png": noise})

    with pytest.raises(ValidationFailed, match="слишком велик после распаковки"):
        registry_import(file=data, user=regional, dry_run=True)


def test_huge_declared_dimensions_are_refused(regional, territory_a):
    def claim_a_million_rows(xml: bytes) -> bytes:
        return re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:G1048576"', xml)

    data = rezip(xlsx([[territory_a.name, "ДК", "", "ДК", "", "", ""]]),
                 edit={"xl/worksheets/sheet1.xml": claim_a_million_rows})

    with pytest.raises(ValidationFailed, match="объявлено 1048576 строк"):
        registry_import(file=data, user=regional, dry_run=True)


def test_rows_beyond_the_cap_are_refused_even_without_a_declared_size(
    regional, territory_a, settings
):
    settings.XLSX_MAX_ROWS = 5
    rows = [[territory_a.name, f"ДК {n}", "", "ДК", "", "", ""] for n in range(8)]

    def drop_dimension(xml: bytes) -> bytes:
        return re.sub(rb"<dimension [^>]*/>", b"", xml)

    data = rezip(xlsx(rows), edit={"xl/worksheets/sheet1.xml": drop_dimension})

    with pytest.raises(ValidationFailed, match="больше 5 строк"):
        registry_import(file=data, user=regional, dry_run=True)


def test_only_regional_methodologists_may_import(municipal_a, territory_a):
    data = xlsx([[territory_a.name, "ДК", "", "ДК", "", "", ""]])

    with pytest.raises(NotAllowed):
        registry_import(file=data, user=municipal_a, dry_run=True)


# --- recognising headers and types ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("Территория", "territory"), ("МУНИЦИПАЛЬНЫЙ РАЙОН / ГОРОДСКОЙ ОКРУГ", "territory"),
        ("Наименование муниципального образования", "territory"), ("Код ОКТМО", "oktmo"),
        ("Учреждение", "full_name"), ("Полное наименование учреждения", "full_name"),
        ("Краткое наименование", "short_name"), ("Сокращённое наименование", "short_name"),
        ("Тип", "type"), ("Вид учреждения", "type"), ("ИНН", "inn"),
        ("Ссылки VK", "vk"), ("Сообщество ВКонтакте", "vk"), ("ВК", "vk"),
        ("Ссылки OK", "ok"), ("Одноклассники", "ok"), ("Подведомственность", "subordination"),
        ("Примечание", None), ("Вид территории", None), ("", None),
    ],
)
def test_header_names_are_recognised(text, column):
    assert header_column(text) == column


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Клубное учреждение (КДУ)", "club"), ("КДУ", "club"), ("ДК", "club"), ("СДК", "club"),
        ("Дом культуры", "club"), ("библиотека", "library"), ("ЦБС", "library"),
        ("Музей", "museum"), ("краеведческий музей", "museum"), ("Театр", "theatre"),
        ("Филармония", "concert"), ("Концертная организация", "concert"), ("парк", "park"),
        ("ДШИ", "education"), ("Образовательное учреждение культуры", "education"),
        ("Орган управления культурой", "authority"), ("Отдел культуры", "authority"),
        ("Иное", "other"), ("library", "library"), ("цирк", None),
    ],
)
def test_institution_types_accept_labels_and_abbreviations(text, kind):
    assert parse_institution_type(text) == kind


# --- the command ----------------------------------------------------------------------------------


@pytest.fixture
def good_path(tmp_path, good_file):
    path = tmp_path / "реестр.xlsx"
    path.write_bytes(good_file)
    return path


def test_command_dry_run_prints_the_plan_and_writes_nothing(good_path, capsys):
    before = registry_snapshot()

    call_command("import_registry", str(good_path), "--dry-run")

    out = capsys.readouterr().out
    assert "Учреждений будет создано: 2, обновлено: 1, без изменений: 1" in out
    assert "Строка 2: будет создано — СДК Ольгино" in out
    assert "Строка 5: без изменений" in out
    assert "ничего не записано" in out
    assert registry_snapshot() == before


def test_command_applies_the_file(good_path, capsys, regional):
    before = Institution.objects.count()

    call_command("import_registry", str(good_path), "--user", regional.username)

    assert "Импорт выполнен" in capsys.readouterr().out
    assert Institution.objects.count() == before + 2
    assert Institution.objects.get(inn=inn(1)).history.get().history_user == regional


def test_command_fails_with_reasons_when_a_row_is_rejected(tmp_path, territory_a, capsys):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx([
        [territory_a.name, "ДК", "", "ДК", "", "", ""],
        ["Нигдейский район", "ДК", "", "ДК", "", "", ""],
    ]))

    with pytest.raises(CommandError, match="Импорт отклонён"):
        call_command("import_registry", str(path))

    assert "Строка 3: отклонено — ДК: Территория «Нигдейский район» не найдена" in (
        capsys.readouterr().out
    )
    assert not Institution.objects.exists()


@pytest.mark.django_db
def test_command_refuses_a_file_that_is_not_xlsx(tmp_path):
    path = tmp_path / "реестр.xlsx"
    path.write_text("это не Excel")

    with pytest.raises(CommandError, match="не является книгой Excel"):
        call_command("import_registry", str(path))


@pytest.mark.django_db
def test_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="не найден"):
        call_command("import_registry", str(tmp_path / "нет.xlsx"))
